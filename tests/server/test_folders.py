"""Folders and files through both official SDKs on a real server: folders made, changed and
deleted; files of each format parsed, chunked and listed; bad files refused, leaving
nothing stored."""

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from letta_client import NotFoundError

from tests.server.helpers import unique
from tests.support.pdfs import pdf_with_text
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess

NOTES = "# Launch notes\n\nThe launch code is PELICAN-42.\n\nBring snacks for the crew.\n"


def upload(http: httpx.Client, folder_id: str, name: str, data: bytes, **params: Any) -> Any:
    return http.post(f"/v1/folders/{folder_id}/upload", files={"file": (name, data)}, params=params)


def make_folder(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = http.post("/v1/folders", json={"name": unique("folder"), **fields})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_folder_and_its_files_through_the_current_sdk(client: Any) -> None:
    name = unique("docs")
    folder = client.folders.create(name=name, description="launch docs", instructions="cite")
    assert folder.id.startswith("source-")
    assert client.folders.retrieve(folder.id).instructions == "cite"
    assert [f.id for f in client.folders.list(name=name)] == [folder.id]
    renamed = client.folders.update(folder.id, name=name + "-v2", description="v2")
    assert (renamed.name, renamed.description) == (name + "-v2", "v2")

    file = client.folders.files.upload(folder.id, file=("notes.md", io.BytesIO(NOTES.encode())))
    assert file.processing_status == "completed"
    assert (file.file_name, file.file_type, file.file_size) == (
        "notes.md",
        "text/markdown",
        len(NOTES.encode()),
    )
    assert file.total_chunks == 1
    assert file.source_id == folder.id
    listed = list(client.folders.files.list(folder.id))
    assert [f.id for f in listed] == [file.id]
    assert listed[0].content is None
    full = client.folders.files.retrieve(file.id, folder_id=folder.id, include_content=True)
    assert "PELICAN-42" in (full.content or "")

    client.folders.files.delete(file.id, folder_id=folder.id)
    assert list(client.folders.files.list(folder.id)) == []
    client.folders.delete(folder.id)
    with pytest.raises(NotFoundError):
        client.folders.retrieve(folder.id)


def test_sources_and_the_upload_job_through_the_legacy_sdk(
    legacy_client: Any, tmp_path: Path
) -> None:
    name = unique("source")
    source = legacy_client.sources.create(name=name, description="legacy")
    assert legacy_client.sources.get_by_name(source_name=name) == source.id
    assert source.id in [s.id for s in legacy_client.sources.list()]
    path = tmp_path / "notes.txt"
    path.write_text(NOTES)
    with path.open("rb") as handle:
        job = legacy_client.sources.files.upload(source_id=source.id, file=handle)
    assert legacy_client.jobs.retrieve(job_id=job.id).status == "completed"
    files = legacy_client.sources.files.list(source_id=source.id)
    assert [f.file_name for f in files] == ["notes.txt"]
    passages = legacy_client.sources.passages.list(source_id=source.id)
    assert any("PELICAN-42" in p.text for p in passages)
    modified = legacy_client.sources.modify(source_id=source.id, description="changed")
    assert modified.description == "changed"
    legacy_client.sources.files.delete(source_id=source.id, file_id=files[0].id)
    assert legacy_client.sources.files.list(source_id=source.id) == []
    legacy_client.sources.delete(source_id=source.id)
    assert source.id not in [s.id for s in legacy_client.sources.list()]


def test_legacy_sdk_lists_the_upload_jobs_of_one_source(legacy_client: Any) -> None:
    """0.1.x's `jobs.list(source_id=...)` answers "only jobs associated with the source":
    its uploads' jobs, as Letta filtered them, not every run."""
    source = legacy_client.sources.create(name=unique("jobs"))
    other = legacy_client.sources.create(name=unique("other"))
    first = legacy_client.sources.files.upload(source_id=source.id, file=("a.txt", b"alpha"))
    second = legacy_client.sources.files.upload(source_id=source.id, file=("b.txt", b"beta"))
    legacy_client.sources.files.upload(source_id=other.id, file=("c.txt", b"gamma"))
    jobs = legacy_client.jobs.list(source_id=source.id)
    assert [j.id for j in jobs] == [first.id, second.id]
    assert {j.status for j in jobs} == {"completed"}
    assert [j.metadata["filename"] for j in jobs] == ["a.txt", "b.txt"]
    assert legacy_client.jobs.list(source_id=unique("source")) == []


def test_a_sources_upload_jobs_page_with_limit_and_cursors(legacy_client: Any) -> None:
    """Letta's `GET /v1/jobs?source_id=` pages like its other lists (`limit`, `after`,
    `before`); 0.1.76's `jobs.list` sends only `source_id`, so a script passes the rest as
    extra query parameters."""
    source = legacy_client.sources.create(name=unique("paged-jobs"))
    jobs = [
        legacy_client.sources.files.upload(source_id=source.id, file=(f"{n}.txt", n.encode()))
        for n in ("a", "b", "c")
    ]

    def listed(**paging: Any) -> list[str]:
        options = {"additional_query_parameters": paging}
        return [j.id for j in legacy_client.jobs.list(source_id=source.id, request_options=options)]

    assert listed() == [j.id for j in jobs]  # oldest first, as before
    assert listed(limit=2) == [jobs[0].id, jobs[1].id]
    assert listed(limit=2, after=jobs[1].id) == [jobs[2].id]
    assert listed(before=jobs[2].id, limit=1) == [jobs[1].id]
    assert listed(order="desc", limit=1) == [jobs[2].id]


CSV = b"city,population\nLyon,522250\nNantes,320732\n"
HTML = (
    b"<html><head><title>t</title><style>p{color:red}</style></head>"
    b"<body><h1>Harbour</h1><p>Tides &amp; currents</p><script>alert(1)</script></body></html>"
)


@pytest.mark.parametrize(
    ("name", "data", "mime", "expected"),
    [
        ("a.txt", b"plain words here", "text/plain", "plain words here"),
        ("b.md", NOTES.encode(), "text/markdown", "PELICAN-42"),
        ("c.json", b'{"answer": 42}', "application/json", '"answer": 42'),
        ("d.csv", CSV, "text/csv", "Nantes,320732"),
        ("e.html", HTML, "text/html", "Harbour\nTides & currents"),
        ("f.pdf", pdf_with_text("Page one says hello", "Page two says goodbye"), "application/pdf",
         "Page one says hello\n\nPage two says goodbye"),
    ],
)  # fmt: skip
def test_each_format_is_read_to_text(
    http: httpx.Client, name: str, data: bytes, mime: str, expected: str
) -> None:
    folder = make_folder(http)
    response = upload(http, folder["id"], name, data)
    assert response.status_code == 200, response.text
    file = response.json()
    assert (file["file_type"], file["processing_status"]) == (mime, "completed")
    content = http.get(
        f"/v1/folders/{folder['id']}/files/{file['id']}", params={"include_content": True}
    ).json()["content"]
    assert expected in content
    assert "alert" not in content
    assert "color:red" not in content


def test_a_long_file_is_cut_into_passages_that_cover_it(http: httpx.Client) -> None:
    paragraphs = [f"Paragraph {i} tells of item {i} in some detail. " * 6 for i in range(40)]
    folder = make_folder(http)
    file = upload(http, folder["id"], "long.txt", "\n\n".join(paragraphs).encode()).json()
    assert file["total_chunks"] > 5
    passages = http.get(f"/v1/sources/{folder['id']}/passages", params={"limit": 1000}).json()
    assert len(passages) == file["total_chunks"]
    joined = "\n\n".join(p["text"] for p in passages)
    assert all(p.strip() in joined for p in paragraphs)


def _nothing_stored(http: httpx.Client, folder_id: str) -> None:
    assert http.get(f"/v1/folders/{folder_id}/files").json() == []
    assert http.get(f"/v1/sources/{folder_id}/passages").json() == []


@pytest.mark.parametrize(
    ("name", "data", "status", "says"),
    [
        ("report.docx", b"PK\x03\x04 not for us", 415, "troupe reads"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", 422, "not a readable PDF"),
        ("scan.pdf", pdf_with_text(""), 422, "no text layer"),
        ("bad.json", b'{"open": ', 422, "not valid JSON"),
        ("unclosed.csv", b'a,"b\n', 422, "not valid CSV"),
        ("stray.csv", b'a,"b"c\n', 422, "not valid CSV"),
        ("latin.txt", "caf\xe9".encode("latin-1"), 422, "not UTF-8"),
        ("binary.txt", b"abc\x00def", 422, "NUL"),
        ("empty.md", b"", 422, "empty"),
    ],
)
def test_a_bad_file_is_refused_and_leaves_nothing(
    http: httpx.Client, name: str, data: bytes, status: int, says: str
) -> None:
    folder = make_folder(http)
    response = upload(http, folder["id"], name, data)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]
    _nothing_stored(http, folder["id"])


def test_uploads_to_unknown_folders_and_without_a_file_are_refused(http: httpx.Client) -> None:
    assert upload(http, "source-missing", "a.txt", b"x").status_code == 404
    folder = make_folder(http)
    assert http.post(f"/v1/folders/{folder['id']}/upload", data={"x": "1"}).status_code == 422
    assert http.post(f"/v1/folders/{folder['id']}/upload", json={"file": "a"}).status_code == 422
    _nothing_stored(http, folder["id"])


def test_duplicate_names_are_handled_as_asked(http: httpx.Client) -> None:
    folder = make_folder(http)
    first = upload(http, folder["id"], "notes.md", b"one").json()
    assert upload(http, folder["id"], "notes.md", b"two").json()["file_name"] == "notes_(1).md"
    assert (
        upload(http, folder["id"], "notes.md", b"3", duplicate_handling="error").status_code == 409
    )
    skipped = upload(http, folder["id"], "notes.md", b"four", duplicate_handling="skip").json()
    assert skipped["id"] == first["id"]
    replaced = upload(http, folder["id"], "notes.md", b"five", duplicate_handling="replace").json()
    names = sorted(f["file_name"] for f in http.get(f"/v1/folders/{folder['id']}/files").json())
    assert names == ["notes.md", "notes_(1).md"]
    content = http.get(
        f"/v1/folders/{folder['id']}/files/{replaced['id']}", params={"include_content": True}
    ).json()["content"]
    assert content == "five"


def test_folder_names_are_unique_and_bad_ids_are_404(http: httpx.Client) -> None:
    folder = make_folder(http)
    again = http.post("/v1/folders", json={"name": folder["name"]})
    assert again.status_code == 409
    assert http.get("/v1/folders/source-nope").status_code == 404
    assert http.get(f"/v1/folders/{folder['id']}/files/file-nope").status_code == 404
    assert http.delete(f"/v1/folders/{folder['id']}/file-nope").status_code == 404
    assert http.get("/v1/jobs/job-nope").status_code == 404
    refused = http.post("/v1/folders", json={"name": unique("f"), "embedding": "nowhere/model"})
    assert refused.status_code == 422
    assert "cannot be served" in refused.json()["detail"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def small_server(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server that takes files of 1 KiB at most."""
    proc = ServerProcess(
        database_factory(request.param),
        tmp_path_factory.mktemp("small"),
        env={"TROUPE_MAX_FILE_BYTES": "1024"},
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_a_file_over_the_size_limit_gets_413_and_leaves_nothing(
    small_server: ServerProcess,
) -> None:
    with httpx.Client(base_url=small_server.url, timeout=30) as http:
        folder = make_folder(http)
        response = upload(http, folder["id"], "big.txt", b"word " * 400)
        assert response.status_code == 413
        assert "1024 bytes" in response.json()["detail"]
        _nothing_stored(http, folder["id"])
        assert upload(http, folder["id"], "small.txt", b"word " * 100).status_code == 200


def test_the_folder_list_pages_with_after(http: httpx.Client) -> None:
    made = [make_folder(http, description=json.dumps(i))["id"] for i in range(3)]
    seen: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 1, "order": "asc"}
        if after:
            params["after"] = after
        page = http.get("/v1/folders", params=params).json()
        if not page:
            break
        seen += [f["id"] for f in page]
        after = page[-1]["id"]
    assert [f for f in seen if f in made] == made


def test_files_are_embedded_with_the_folders_embedder(client: Any) -> None:
    folder = client.folders.create(name=unique("embedded"))
    assert folder.embedding_config.handle == "local/all-MiniLM-L6-v2"
    assert folder.embedding_config.embedding_dim == 384
    file = client.folders.files.upload(folder.id, file=("notes.md", io.BytesIO(NOTES.encode())))
    assert file.chunks_embedded == file.total_chunks == 1


def test_a_file_whose_embedding_fails_is_kept_as_an_error_with_nothing_else(
    http: httpx.Client,
) -> None:
    """As Letta shows it: the file is listed with status `error` and why; no passages, and no
    agent sees it."""
    folder = make_folder(http, embedding="openai/text-embedding-3-small")
    agent = http.post("/v1/agents", json={"name": unique("a"), "model": "test/echo"}).json()
    http.patch(f"/v1/agents/{agent['id']}/folders/attach/{folder['id']}")
    response = upload(http, folder["id"], "notes.md", NOTES.encode())
    assert response.status_code == 200
    file = response.json()
    assert file["processing_status"] == "error"
    assert "OPENAI_API_KEY" in file["error_message"]
    assert file["chunks_embedded"] == 0
    assert http.get(f"/v1/sources/{folder['id']}/passages").json() == []
    assert http.get(f"/v1/agents/{agent['id']}/files").json()["files"] == []


def test_legacy_sdk_modify_replaces_the_agents_sources(legacy_client: Any) -> None:
    """0.1.x `agents.modify(source_ids=[...])` (1.x `folder_ids`) sets the agent's folders, as
    Letta's UpdateAgent did: new ones attached with their files, the others detached; an
    unknown id is a 404 that changes nothing."""
    first = legacy_client.sources.create(name=unique("first"))
    second = legacy_client.sources.create(name=unique("second"))
    legacy_client.sources.files.upload(source_id=second.id, file=("notes.txt", NOTES.encode()))
    agent = legacy_client.agents.create(name=unique("reader"), model="test/echo")
    legacy_client.agents.sources.attach(agent_id=agent.id, source_id=first.id)

    legacy_client.agents.modify(agent_id=agent.id, source_ids=[second.id])
    assert [s.id for s in legacy_client.agents.sources.list(agent_id=agent.id)] == [second.id]
    tools = [t.name for t in legacy_client.agents.tools.list(agent_id=agent.id)]
    assert "open_files" in tools

    with pytest.raises(legacy_sdk().core.api_error.ApiError) as unknown:
        legacy_client.agents.modify(agent_id=agent.id, source_ids=[first.id, unique("source")])
    assert unknown.value.status_code == 404
    assert [s.id for s in legacy_client.agents.sources.list(agent_id=agent.id)] == [second.id]

    legacy_client.agents.modify(agent_id=agent.id, source_ids=[])
    assert legacy_client.agents.sources.list(agent_id=agent.id) == []
    tools = [t.name for t in legacy_client.agents.tools.list(agent_id=agent.id)]
    assert "open_files" not in tools
