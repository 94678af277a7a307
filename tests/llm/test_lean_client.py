"""The lean client under the vendor SDKs (llm/http_pool.py: `LeanClient`): troupe's model
calls after the first skip `httpx2.AsyncClient.send`'s layers, and must come out as they
do: a gzip-encoded answer decoded, the cookies an answer sets kept in the client's jar, a
307 followed to where it points. Compared with the same calls through the SDK's plain
client class (whose requests take httpx's own `send`), against a raw HTTP server on
127.0.0.1, on both SDKs."""

import asyncio
import gzip
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from troupe.llm.anthropic import AnthropicModel
from troupe.llm.anthropic import AsyncAnthropic as TroupeAnthropic
from troupe.llm.base import ChatMessage, ModelRequest
from troupe.llm.http_pool import sdk_http_client
from troupe.llm.openai_compat import AsyncOpenAI as TroupeOpenAI
from troupe.llm.openai_compat import OpenAICompatibleModel
from troupe.llm.providers import Endpoint

ANSWERS = {
    "openai": {"choices": [{"message": {"role": "assistant", "content": "hi ü"}}]},
    "anthropic": {"content": [{"type": "text", "text": "hi ü"}], "usage": {}},
}
CLASSES: dict[str, tuple[Any, Any, Any]] = {
    "openai": (openai.AsyncOpenAI, TroupeOpenAI, OpenAICompatibleModel),
    "anthropic": (anthropic.AsyncAnthropic, TroupeAnthropic, AnthropicModel),
}
REQUEST = ModelRequest([ChatMessage("system", "Be brief."), ChatMessage("user", "hello")], [])


class Server:
    """Answers under /moved/ with a 307 to the same path under /v1/, and there with the
    provider's answer gzip-encoded, setting a cookie that counts the answers."""

    def __init__(self, provider: str) -> None:
        self.answer = gzip.compress(json.dumps(ANSWERS[provider]).encode())
        self.paths: list[str] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length: *(\d+)\r$", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                path = head.split(b" ")[1].decode()
                self.paths.append(path)
                if path.startswith("/moved/"):
                    where = path.replace("/moved/", "/v1/", 1).encode()
                    writer.write(
                        b"HTTP/1.1 307 X\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % where
                    )
                    continue
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Encoding: gzip\r\nSet-Cookie: seen=%d; Path=/\r\n"
                    b"Content-Length: %d\r\n\r\n%s"
                    % (len(self.paths), len(self.answer), self.answer)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture(params=["openai", "anthropic"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Server, str]]:
    provider = request.param
    server = Server(provider)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    yield provider, server, f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    listener.close()


async def calls(provider: str, make: Any, server: Server, base_url: str) -> tuple[Any, ...]:
    """Three calls through a client of class `make`: the answers, the paths asked, the
    cookie jar after, and how many requests went through httpx's own `send`."""
    if provider == "openai":
        base_url += "/v1" if base_url.endswith(tuple("0123456789")) else ""
    client = make(api_key="sk-x", base_url=base_url, max_retries=0, http_client=sdk_http_client())
    endpoint = Endpoint(provider, base_url, "sk-x", 30, 0)
    model = CLASSES[provider][2](f"{provider}/m", "m", endpoint, client)
    httpx_sends = 0
    send = httpx2.AsyncClient.send

    async def counted(*args: Any, **kwargs: Any) -> httpx2.Response:
        nonlocal httpx_sends
        httpx_sends += 1
        return await send(*args, **kwargs)

    server.paths.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx2.AsyncClient, "send", counted)
        answers = [(await model.complete(REQUEST)).content for _ in range(3)]
    cookies = dict(client._client.cookies)
    await client.close()
    return answers, list(server.paths), cookies, httpx_sends


async def test_encoded_answers_cookies_and_redirects_as_httpx_has_them(
    server: tuple[str, Server, str],
) -> None:
    provider, raw, url = server
    sdk, troupe, _ = CLASSES[provider]
    path = "/v1/chat/completions" if provider == "openai" else "/v1/messages"
    moved = "/moved/chat/completions" if provider == "openai" else "/moved/v1/messages"
    target = moved.replace("/moved/", "/v1/", 1)
    # Through troupe's client, the first call goes httpx's way, the others not but for
    # the redirect each is sent its way.
    for base_url, paths, httpx_sends in (
        (url, [path] * 3, 1),
        (f"{url}/moved", [moved, target] * 3, 3),
    ):
        answers, asked, cookies, sends = await calls(provider, sdk, raw, base_url)
        assert (answers, asked, cookies) == (["hi ü"] * 3, paths, {"seen": str(len(paths))})
        assert sends == 3  # the plain SDK client: every request httpx's way
        here = await calls(provider, troupe, raw, base_url)
        assert here == (answers, asked, cookies, httpx_sends)
