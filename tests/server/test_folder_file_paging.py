"""The order and paging of a folder's files, as Letta gave them, through both SDK lines on a
real server: 0.1.x's `sources.files.list` oldest first (its only cursor is `after`), 1.x's
`folders.files.list` newest first unless `order="asc"`, both up to 1,000 files a page."""

from typing import Any

import httpx

from tests.server.helpers import unique

KEYWORD = {"embedding_endpoint_type": "openai", "embedding_model": "keyword", "embedding_dim": 0}


def _folder_of_files(http: httpx.Client, count: int) -> tuple[str, list[str]]:
    """A keyword-only folder (nothing to embed) and the ids of its `count` files, in upload
    order: oldest first."""
    made = http.post("/v1/folders", json={"name": unique("paged"), "embedding_config": KEYWORD})
    assert made.status_code == 200, made.text
    folder_id = made.json()["id"]
    ids = []
    for n in range(count):
        files = {"file": (f"note-{n}.txt", f"note {n}".encode())}
        response = http.post(f"/v1/folders/{folder_id}/upload", files=files)
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return folder_id, ids


def test_the_legacy_sdk_lists_a_sources_files_oldest_first_and_pages_on_with_after(
    http: httpx.Client, legacy_client: Any
) -> None:
    source_id, ids = _folder_of_files(http, 3)
    assert [f.id for f in legacy_client.sources.files.list(source_id=source_id)] == ids

    paged, after = [], None
    while page := legacy_client.sources.files.list(source_id=source_id, limit=2, after=after):
        paged += [f.id for f in page]
        after = page[-1].id
    assert paged == ids
    listed = legacy_client.sources.files.list(source_id=source_id, after=ids[0])
    assert [f.id for f in listed] == ids[1:]
    assert legacy_client.sources.files.list(source_id=source_id, after=ids[-1]) == []

    # `before` (not in 0.1.x's SDK; troupe's paging) gives the page nearest it, in order.
    def before(cursor: str, **params: Any) -> list[str]:
        query = {"before": cursor, **params}
        return [f["id"] for f in http.get(f"/v1/sources/{source_id}/files", params=query).json()]

    assert before(ids[2]) == ids[:2]
    assert before(ids[2], limit=1) == [ids[1]]
    assert before(ids[0], order="desc") == ids[:0:-1]


def test_the_current_sdk_lists_a_folders_files_newest_first_unless_asked(
    http: httpx.Client, client: Any
) -> None:
    folder_id, ids = _folder_of_files(http, 3)
    newest_first = ids[::-1]
    assert [f.id for f in client.folders.files.list(folder_id)] == newest_first
    assert [f.id for f in client.folders.files.list(folder_id, order="asc")] == ids
    # The SDK's auto-paging asks again with `after=<last id>` until a page is empty.
    assert [f.id for f in client.folders.files.list(folder_id, limit=1)] == newest_first
    assert [f.id for f in client.folders.files.list(folder_id, limit=2, order="asc")] == ids
    page = client.folders.files.list(folder_id, after=newest_first[0])
    assert [f.id for f in page.items] == newest_first[1:]
    page = client.folders.files.list(folder_id, before=ids[0], limit=1)
    assert [f.id for f in page.items] == [ids[1]]
    page = client.folders.files.list(folder_id, before=ids[2], order="asc")
    assert [f.id for f in page.items] == ids[:2]


def test_both_lines_get_up_to_a_thousand_files_a_page(
    http: httpx.Client, client: Any, legacy_client: Any
) -> None:
    folder_id, ids = _folder_of_files(http, 51)  # one past the pager's usual 50
    assert [f.id for f in legacy_client.sources.files.list(source_id=folder_id)] == ids
    assert [f.id for f in client.folders.files.list(folder_id).items] == ids[::-1]
