"""The lean HTTP transport under the vendor SDKs (llm/lean_transport.py): the real adapters
and SDKs against the fake model server on 127.0.0.1 (keep-alive, 429/500 retried, a hung
server ending in the SDK's timeout error after its retries, many calls in flight, TLS with
a certificate made here), and HTTP framing against a raw server on 127.0.0.1 (chunked and
streamed answers, answers ending at the close, `Connection: close`, a kept-alive
connection the server drops when it is used again)."""

import asyncio
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx2
import pytest

from troupe.llm.anthropic import AnthropicModel
from troupe.llm.anthropic import AsyncAnthropic as TroupeAnthropic
from troupe.llm.base import ChatMessage, ModelError, ModelRequest
from troupe.llm.fake_server import FakeLLMServer
from troupe.llm.http_pool import sdk_http_client
from troupe.llm.lean_transport import LeanTransport
from troupe.llm.openai_compat import AsyncOpenAI as TroupeOpenAI
from troupe.llm.openai_compat import OpenAICompatibleModel
from troupe.llm.providers import Endpoint

PROVIDERS = ["openai", "anthropic"]
REQUEST = ModelRequest(messages=[ChatMessage("user", "hello")], tools=[])


def sdk_model(provider: str, fake: FakeLLMServer, timeout: float = 5, retries: int = 2) -> Any:
    """The provider's adapter over troupe's SDK client, over troupe's HTTP client."""
    base_url = fake.openai_base_url if provider == "openai" else fake.anthropic_base_url
    endpoint = Endpoint(provider, base_url, "sk-lean", timeout, retries)
    sdk, adapter = (
        (TroupeOpenAI, OpenAICompatibleModel)
        if provider == "openai"
        else (TroupeAnthropic, AnthropicModel)
    )
    client = sdk(
        api_key=endpoint.api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=retries,
        http_client=sdk_http_client(),
    )
    return adapter(f"{provider}/fake-chat", "fake-chat", endpoint, client)


def transport_of(model: Any) -> LeanTransport:
    transport = model.client._client._transport
    assert isinstance(transport, LeanTransport)
    return transport


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_sdk_calls_keep_alive_retry_429_and_500_and_run_many_at_once(
    provider: str, fake: FakeLLMServer
) -> None:
    model = sdk_model(provider, fake)
    transport = transport_of(model)
    before = len(fake.requests)
    for _ in range(3):
        assert (await model.complete(REQUEST)).tool_calls[0].name == "send_message"
    fake.push({"status": 429}, {"status": 500}, {"text": "after two faults"})
    assert (await model.complete(REQUEST)).content == "after two faults"
    assert len(fake.requests) - before == 6  # the faults retried by the SDK, as before
    assert transport.connections_opened == 1  # every answer, errors too, kept it alive
    fake.push(*[{"hang": 0.2}] * 20)  # each answer waits: all 20 in flight together
    answers = await asyncio.gather(*(model.complete(REQUEST) for _ in range(20)))
    assert [answer.content for answer in answers] == ["late"] * 20
    assert transport.connections_opened == 20
    assert [len(idle) for idle in transport.idle.values()] == [20]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_hung_provider_is_the_sdks_timeout_error_after_its_retries(
    provider: str, fake: FakeLLMServer
) -> None:
    model = sdk_model(provider, fake, timeout=0.3, retries=1)
    before = len(fake.requests)
    fake.push({"hang": 2}, {"hang": 2})
    with pytest.raises(ModelError, match=r"no answer within 0\.3 s"):
        await model.complete(REQUEST)
    assert len(fake.requests) - before == 2  # the first try and the SDK's one retry
    fake.queue.clear()


def test_a_client_shared_by_event_loops_one_after_another(fake: FakeLLMServer) -> None:
    model = sdk_model("openai", fake)
    for _ in range(2):  # connections of the first loop are let go on the second
        assert asyncio.run(model.complete(REQUEST)).tool_calls
    assert transport_of(model).connections_opened == 2


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, made now."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    command += " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
    subprocess.run(
        [*command.split(), "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


async def test_tls_trusts_ssl_cert_file_and_refuses_an_unknown_certificate(
    certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLMServer(tls=certificate) as fake:
        assert fake.openai_base_url.startswith("https://")
        untrusting = sdk_model("openai", fake, retries=0)
        monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
        models = [sdk_model(provider, fake) for provider in PROVIDERS]
        for model in models:
            assert (await model.complete(REQUEST)).tool_calls
        with pytest.raises(ModelError, match="cannot reach"):
            await untrusting.complete(REQUEST)
        for model in models:  # closed here, while this loop runs to finish the TLS close
            await model.client.close()
    assert len(fake.requests) == 2


def test_proxy_variables_leave_the_lean_transport_to_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert isinstance(sdk_http_client()._transport, LeanTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = sdk_http_client()
    assert not isinstance(client._transport, LeanTransport)
    assert any(mount is not None for mount in client._mounts.values())  # httpx's proxy


async def until(condition: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + 5
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within 5 s"
        await asyncio.sleep(0.01)


class RawServer:
    """HTTP/1.1 by hand on 127.0.0.1, each path a way of answering."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.go_on = asyncio.Event()  # lets /stream send its second half

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        before = ""  # the path asked before on this connection
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                path = head.split(b" ")[1].decode()
                self.requests.append(path)
                if path == before == "/drop":
                    return  # a kept-alive connection closed as a request comes on it
                before = path
                if not await self.answer(path, writer):
                    return
        except asyncio.IncompleteReadError:
            return
        finally:
            writer.close()

    async def answer(self, path: str, writer: asyncio.StreamWriter) -> bool:
        """Answers; whether the connection stays open."""
        if path == "/hang":
            await asyncio.sleep(5)
            return False
        if path == "/stream":  # chunked, the second half only once the first was read
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n")
            await writer.drain()
            await self.go_on.wait()
            writer.write(b"5\r\nworld\r\n0\r\n\r\n")
            return True
        if path == "/until-close":
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
            return False
        closing = path == "/close"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n%s\r\nok"
            % (b"Connection: close\r\n" if closing else b"")
        )
        return not closing and path != "/then-idle-close"  # closed idle, unannounced


@pytest.fixture(scope="module")
async def raw() -> AsyncIterator[tuple[RawServer, str]]:
    server = RawServer()
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    yield server, f"http://127.0.0.1:{port}"
    listener.close()


async def test_http_framing_keep_alive_and_a_dropped_kept_connection(
    raw: tuple[RawServer, str],
) -> None:
    server, url = raw
    transport = LeanTransport()
    async with httpx2.AsyncClient(transport=transport, base_url=url) as client:
        assert [(await client.get(path)).text for path in ("/ok", "/ok", "/close")] == ["ok"] * 3
        assert transport.connections_opened == 1
        assert (await client.get("/until-close")).text == "all of it"
        assert transport.connections_opened == 2  # the server had closed the first
        async with client.stream("GET", "/stream") as answer:
            pieces = answer.aiter_raw()
            assert await anext(pieces) == b"hello "  # before the server sends the rest
            server.go_on.set()
            assert [piece async for piece in pieces] == [b"world"]
        assert (await client.get("/then-idle-close")).text == "ok"
        opened = transport.connections_opened
        await until(lambda: all(c.lost for idle in transport.idle.values() for c in idle))
        server.requests.clear()
        assert [(await client.get("/drop")).text for _ in range(2)] == ["ok", "ok"]
        # The first found the kept connection closed while idle and took a new one; the
        # second found its kept connection closed under it, and went again on a new one.
        assert server.requests == ["/drop"] * 3
        assert transport.connections_opened == opened + 2
        with pytest.raises(httpx2.ReadTimeout):
            await client.get("/hang", timeout=httpx2.Timeout(5, read=0.2))
    assert transport.idle == {}  # closed with the client
