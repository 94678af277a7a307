"""fetch_webpage's connections (troupe.tools.web_guard): a host name is resolved once and the
connection goes to the address that was checked, on every hop of a redirect chain, so a name
that answers differently the second time (DNS rebinding) cannot reach a refused address.
Real HTTP servers on 127.0.0.1; a test resolver stands in for DNS, 127.0.0.1 plays the one
allowed ("public") address and the other loopback addresses play private ones."""

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from troupe.config import WebSettings
from troupe.tools.web import fetch_page
from troupe.tools.web_guard import GuardedBackend, IpAddress

SETTINGS = WebSettings(timeout_s=10)


class Web(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/hop?to="):
            self.send_response(302)
            self.send_header("Location", self.path.split("=", 1)[1])
            self.end_headers()
            return
        body = b"hello from the page"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Web)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


def only_127_0_0_1(ip: IpAddress) -> bool:
    return str(ip) == "127.0.0.1"


class Dns:
    """Answers each name from a list of answers, one per lookup (the last one repeats)."""

    def __init__(self, **answers: list[list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        queue = self.answers[host.replace(".", "_")]
        return queue.pop(0) if len(queue) > 1 else queue[0]


async def test_a_rebinding_name_is_connected_at_the_address_that_was_checked(port: int) -> None:
    # A second lookup would answer a refused address (and one where nothing listens).
    dns = Dns(rebind_test=[["127.0.0.1"], ["127.0.0.2"]])
    guard = GuardedBackend(only_127_0_0_1, dns)
    outcome = await fetch_page(f"http://rebind.test:{port}/page", SETTINGS, guard)
    assert (outcome.status, outcome.text) == ("success", "hello from the page")
    assert dns.lookups == ["rebind.test"]  # resolved once, for the connection itself


async def test_refused_addresses_fail_the_fetch_on_any_hop(port: int) -> None:
    dns = Dns(
        public_test=[["127.0.0.1"]],
        private_test=[["127.0.0.2"]],
        mixed_test=[["127.0.0.1", "127.0.0.3"]],
    )
    guard = GuardedBackend(only_127_0_0_1, dns)
    for url in (
        f"http://private.test:{port}/page",
        f"http://mixed.test:{port}/page",
        f"http://public.test:{port}/hop?to=http://private.test:{port}/page",
        f"http://public.test:{port}/hop?to=http://127.0.0.5:{port}/page",
    ):
        outcome = await fetch_page(url, SETTINGS, guard)
        assert outcome.status == "error", url
        assert "non-public address" in outcome.text, url
    followed = await fetch_page(f"http://public.test:{port}/hop?to=/page", SETTINGS, guard)
    assert (followed.status, followed.text.splitlines()[-1]) == ("success", "hello from the page")


async def test_by_default_only_public_addresses_are_reached(port: int) -> None:
    for host in ("127.0.0.1", "localhost"):
        outcome = await fetch_page(f"http://{host}:{port}/page", SETTINGS)
        assert outcome.status == "error"
        assert "non-public address" in outcome.text
    allowed = await fetch_page(f"http://127.0.0.1:{port}/page", WebSettings(allow_private=True))
    assert allowed.text == "hello from the page"
