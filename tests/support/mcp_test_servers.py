"""The test MCP server (tests/support/mcp_server.py) as troupe is configured to reach it:
over stdio (a command troupe starts in its sandbox) or over HTTP (a process of its own on
127.0.0.1)."""

import os
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.servers import free_port
from troupe.tools.sandbox_identity import interpreter

SCRIPT = Path(__file__).with_name("mcp_server.py")


def stdio_config(mode: str = "stdio", env: dict[str, str] | None = None) -> dict[str, Any]:
    """The stdio config of the test server. Troupe may run it under a user id of its own, so
    the command is a Python that id can run, and the config names where the SDK lives (the
    server inherits no environment of troupe's)."""
    python, _ = interpreter(os.geteuid() == 0)
    packages = sysconfig.get_paths()["purelib"]
    return {
        "command": python,
        "args": [str(SCRIPT), mode],
        "env": {"PYTHONPATH": packages, **(env or {})},
    }


class McpHttpServer:
    """The test server over streamable HTTP (`http`) or SSE (`sse`), in its own process."""

    def __init__(self, mode: str = "http") -> None:
        self.mode = mode
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        path = "/mcp" if self.mode == "http" else "/sse"
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, timeout: float = 30) -> "McpHttpServer":
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), self.mode, str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the test MCP server exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the test MCP server did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@contextmanager
def running_http_mcp(mode: str = "http") -> Iterator[McpHttpServer]:
    server = McpHttpServer(mode).start()
    try:
        yield server
    finally:
        server.stop()
