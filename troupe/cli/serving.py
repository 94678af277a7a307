"""How `troupe server` runs uvicorn (also used by benchmarks/http_layer.py, to measure the
server as it runs)."""

from typing import Any

from troupe.cli.one_write import OneWriteHttpToolsProtocol


def uvicorn_options(host: str, port: int, log_level: str, access_log: bool) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config`.

    The access log is off unless asked for: a line per request formatted and written on the
    one event loop that serves every agent cost about a fifth of the HTTP layer's CPU per
    request (benchmarks/http_layer.py), and the request metrics (/v1/metrics) and spans
    already count each request by route and status.

    `http`: uvicorn's httptools protocol, but a sized answer's head and body leave in one
    write (one syscall less per answer; troupe/cli/one_write.py)."""
    return {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": access_log,
        "http": OneWriteHttpToolsProtocol,
    }
