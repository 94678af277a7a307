"""How `troupe server` runs uvicorn (also used by benchmarks/http_layer.py, to measure the
server as it runs)."""

from typing import Any


def uvicorn_options(host: str, port: int, log_level: str, access_log: bool) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config`.

    The access log is off unless asked for: a line per request formatted and written on the
    one event loop that serves every agent cost about a fifth of the HTTP layer's CPU per
    request (benchmarks/http_layer.py), and the request metrics (/v1/metrics) and spans
    already count each request by route and status."""
    return {"host": host, "port": port, "log_level": log_level, "access_log": access_log}
