"""The built-ins Letta agents expect: run_code (Python in the sandbox), fetch_webpage (readable
text, bounded, no private addresses unless allowed) and web_search (through the configured
provider, a clear error without one). Web servers here are on 127.0.0.1, so the server under
test allows private addresses, except where the block itself is tested."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from letta_client import Letta

from tests.server.helpers import make_agent, of_type, script, send
from tests.support.servers import ServerProcess

PAGE = b"""<!doctype html><html><head><title>The  Moon</title><style>p{color:red}</style>
<script>var secret = "hidden";</script></head><body><nav>Home | About</nav>
<h1>Facts</h1><p>It orbits the <b>Earth</b>.</p><ul><li>Far</li><li>Cold</li></ul></body></html>"""
SEARCHES: list[dict[str, Any]] = []


class Web(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/moon")
            self.end_headers()
            return
        if self.path == "/big":
            body, kind = b"x" * 50_000, "text/plain"
        elif self.path == "/image":
            body, kind = b"\x89PNG....", "image/png"
        elif self.path == "/moon":
            body, kind = PAGE, "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        SEARCHES.append(
            {
                "path": self.path,
                "key": self.headers.get("x-api-key"),
                "body": json.loads(self.rfile.read(int(self.headers["Content-Length"]))),
            }
        )
        result = {"results": [{"title": "Moon", "url": "https://moon.example", "summary": "round"}]}
        body = json.dumps(result).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Web)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def open_server(
    request: pytest.FixtureRequest,
    database_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
    web: str,
) -> Iterator[ServerProcess]:
    env = {
        "TROUPE_FETCH_ALLOW_PRIVATE": "1",
        "TROUPE_FETCH_MAX_BYTES": "10000",
        "EXA_API_KEY": "exa-test-key",
        "EXA_BASE_URL": web,
    }
    server = ServerProcess(database_factory(request.param), tmp_path_factory.mktemp("web"), env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(open_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=open_server.url, timeout=60) as client:
        yield client


def run(http: httpx.Client, agent_id: str, tool: str, **args: Any) -> dict[str, Any]:
    response = http.post(f"/v1/agents/{agent_id}/tools/{tool}/run", json={"args": args})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_fetch_webpage_returns_the_readable_text(api: httpx.Client, web: str) -> None:
    agent = make_agent(api, tools=["fetch_webpage"])
    result = send(
        api,
        agent["id"],
        script(
            {"tool": "fetch_webpage", "args": {"url": f"{web}/moon"}},
            {"tool": "send_message", "args": {"message": "read it"}},
        ),
    )
    page = of_type(result, "tool_return_message")[0]
    assert page["status"] == "success"
    assert (
        page["tool_return"]
        == "The Moon\n\nHome | About\nFacts\nIt orbits the Earth.\n- Far\n- Cold"
    )
    moved = run(api, agent["id"], "fetch_webpage", url=f"{web}/moved")
    assert moved["func_return"].startswith(f"(from {web}/moon)\nThe Moon")


def test_fetch_webpage_stops_at_its_limits(api: httpx.Client, web: str) -> None:
    agent = make_agent(api, tools=["fetch_webpage"])
    big = run(api, agent["id"], "fetch_webpage", url=f"{web}/big")
    assert big["status"] == "success"
    assert big["func_return"] == "x" * 10_000  # TROUPE_FETCH_MAX_BYTES
    image = run(api, agent["id"], "fetch_webpage", url=f"{web}/image")
    assert image["status"] == "error"
    assert "image/png" in image["func_return"]
    missing = run(api, agent["id"], "fetch_webpage", url=f"{web}/nothing")
    assert missing["status"] == "error"
    assert "HTTP 404" in missing["func_return"]
    scheme = run(api, agent["id"], "fetch_webpage", url="file:///etc/passwd")
    assert scheme["status"] == "error"
    assert "not an http(s) URL" in scheme["func_return"]


def test_fetch_webpage_refuses_private_addresses_by_default(client: Letta, web: str) -> None:
    agent = client.agents.create(name="fetcher", model="test/scripted", tools=["fetch_webpage"])
    for url in (f"{web}/moon", "http://localhost:9/", "http://10.1.2.3/", "http://[::1]:80/"):
        result = client.agents.tools.run("fetch_webpage", agent_id=agent.id, args={"url": url})
        assert result.status == "error", url
        assert "non-public address" in str(result.func_return), url


def test_web_search_asks_the_configured_provider(api: httpx.Client) -> None:
    agent = make_agent(api, tools=["web_search"])
    SEARCHES.clear()
    result = run(
        api,
        agent["id"],
        "web_search",
        query="moon facts",
        num_results=3,
        include_domains=["nasa.gov"],
        user_location="NZ",  # Letta's final signature has it
    )
    assert result["status"] == "success"
    assert json.loads(result["func_return"]) == {
        "results": [{"title": "Moon", "url": "https://moon.example", "summary": "round"}]
    }
    (sent,) = SEARCHES
    assert sent["path"] == "/search"
    assert sent["key"] == "exa-test-key"
    assert sent["body"]["query"] == "moon facts"
    assert sent["body"]["numResults"] == 3
    assert sent["body"]["includeDomains"] == ["nasa.gov"]
    assert sent["body"]["userLocation"] == "NZ"


def test_web_search_without_a_provider_is_a_clear_tool_error(client: Letta) -> None:
    agent = client.agents.create(name="searcher", model="test/scripted", tools=["web_search"])
    result = client.agents.tools.run("web_search", agent_id=agent.id, args={"query": "moon"})
    assert result.status == "error"
    assert "EXA_API_KEY" in str(result.func_return)


def test_run_code_runs_python_in_the_sandbox(api: httpx.Client) -> None:
    agent = make_agent(api, tools=["run_code"])
    code = "import os\nprint('hi', 6 * 7)\nos.environ.get('OPENAI_API_KEY', 'no key')"
    result = send(
        api,
        agent["id"],
        script(
            {"tool": "run_code", "args": {"code": code, "language": "python"}},
            {"tool": "send_message", "args": {"message": "ran"}},
        ),
    )
    ran = json.loads(of_type(result, "tool_return_message")[0]["tool_return"])
    assert ran == {
        "results": ["'no key'"],
        "logs": {"stdout": ["hi 42"], "stderr": []},
        "error": None,
    }
    failing = json.loads(
        run(api, agent["id"], "run_code", code="1/0", language="python")["func_return"]
    )
    assert "ZeroDivisionError" in failing["error"]
    other = run(api, agent["id"], "run_code", code="console.log(1)", language="js")
    assert other["status"] == "error"
    assert "only Python" in other["func_return"]
