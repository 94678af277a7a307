"""The web as the built-in tools reach it: a page fetched as readable text (bounded in time
and size, and never from loopback or private addresses unless the server allows it), and a
web search through the configured provider (Exa, as Letta used)."""

import asyncio
import json
from typing import Any

import httpx

from troupe.config import WebSettings
from troupe.tools.calls import ToolOutcome
from troupe.tools.readable import readable_text
from troupe.tools.web_guard import GuardedBackend, Refused, guarded_transport

MAX_REDIRECTS = 5
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml")


async def fetch_page(
    url: str, settings: WebSettings, guard: GuardedBackend | None = None
) -> ToolOutcome:
    """GET the page (following redirects, each checked) and return its readable text. Unless
    the settings allow private addresses, every connection goes through `guard` (by
    default: public addresses only, see tools.web_guard)."""
    if guard is None and not settings.allow_private:
        guard = GuardedBackend()
    try:
        async with asyncio.timeout(settings.timeout_s):
            body, content_type, final = await _get(url, settings, guard)
    except TimeoutError:
        return ToolOutcome.error(f"fetching {url} took longer than {settings.timeout_s:g} s")
    except Refused as refused:
        return ToolOutcome.error(str(refused))
    except httpx.HTTPError as exc:
        return ToolOutcome.error(f"fetching {url} failed: {exc!r}")
    text = body.decode(errors="replace")
    if "html" in content_type or (not content_type and "<html" in text[:1000].lower()):
        text = readable_text(text)
    if len(text) > settings.max_chars:
        text = text[: settings.max_chars] + f"\n… (cut at {settings.max_chars} characters)"
    return ToolOutcome.ok(text if final == url else f"(from {final})\n{text}")


async def _get(
    url: str, settings: WebSettings, guard: GuardedBackend | None
) -> tuple[bytes, str, str]:
    transport = guarded_transport(guard) if guard is not None else None
    async with httpx.AsyncClient(
        trust_env=False, follow_redirects=False, transport=transport
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            target = checked_url(url)
            async with client.stream("GET", target, headers={"User-Agent": "troupe"}) as response:
                if response.is_redirect and "location" in response.headers:
                    url = str(target.join(response.headers["location"]))
                    continue
                if response.status_code >= 400:
                    raise Refused(f"{url} answered HTTP {response.status_code}")
                content_type = response.headers.get("content-type", "").lower()
                if content_type and not content_type.startswith(TEXT_TYPES):
                    raise Refused(f"{url} is {content_type}, not a page of text")
                return await _read(response, settings.max_bytes), content_type, url
    raise Refused(f"{url} redirected more than {MAX_REDIRECTS} times")


async def _read(response: httpx.Response, max_bytes: int) -> bytes:
    kept = bytearray()
    async for chunk in response.aiter_bytes():
        kept += chunk[: max_bytes - len(kept)]
        if len(kept) >= max_bytes:
            break  # the rest is not downloaded
    return bytes(kept)


def checked_url(url: str) -> httpx.URL:
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise Refused(f"{url!r} is not a URL: {exc}") from None
    if target.scheme not in {"http", "https"} or not target.host:
        raise Refused(f"{url!r} is not an http(s) URL")
    return target


async def search_web(arguments: dict[str, Any], settings: WebSettings) -> ToolOutcome:
    if not settings.search_api_key:
        return ToolOutcome.error(
            "web_search has no search provider on this server: its operator sets EXA_API_KEY "
            "(an Exa API key) to turn it on"
        )
    query = str(arguments.get("query") or "").strip()
    if not query:
        return ToolOutcome.error("`query` must be non-empty text")
    request = {
        "query": query,
        "numResults": max(1, min(100, int(arguments.get("num_results") or 10))),
        "type": "auto",
        "contents": {
            "text": bool(arguments.get("include_text")),
            "highlights": True,
            "summary": True,
        },
    }
    for ours, theirs in (
        ("category", "category"),
        ("include_domains", "includeDomains"),
        ("exclude_domains", "excludeDomains"),
        ("start_published_date", "startPublishedDate"),
        ("end_published_date", "endPublishedDate"),
        ("user_location", "userLocation"),
    ):
        if arguments.get(ours):
            request[theirs] = arguments[ours]
    try:
        async with httpx.AsyncClient(timeout=settings.timeout_s, trust_env=False) as client:
            response = await client.post(
                f"{settings.search_url}/search",
                json=request,
                headers={"x-api-key": settings.search_api_key},
            )
    except httpx.HTTPError as exc:
        return ToolOutcome.error(f"the search provider could not be reached: {exc!r}")
    if response.status_code >= 400:
        return ToolOutcome.error(
            f"the search provider answered HTTP {response.status_code}: {response.text[:300]}"
        )
    return ToolOutcome.ok(json.dumps(_results(response), ensure_ascii=False))


def _results(response: httpx.Response) -> dict[str, Any]:
    found = []
    for item in response.json().get("results") or []:
        entry = {
            "title": item.get("title"),
            "url": item.get("url"),
            "published_date": item.get("publishedDate"),
            "summary": item.get("summary"),
            "highlights": item.get("highlights"),
        }
        if item.get("text"):
            entry["text"] = item["text"]
        found.append({k: v for k, v in entry.items() if v})
    return {"results": found}
