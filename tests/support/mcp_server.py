"""A real MCP server for the tests, written with the official `mcp` SDK. Standalone (only the
SDK is imported) so that it runs as a stdio server inside troupe's sandbox, under another
user id and with nothing but the environment its config names:

    python mcp_server.py stdio            # over stdin/stdout
    python mcp_server.py mute             # a stdio server that never answers at all
    python mcp_server.py http PORT        # streamable HTTP on 127.0.0.1:PORT/mcp
    python mcp_server.py sse PORT         # SSE on 127.0.0.1:PORT/sse

Its tools: `add` and `shout` answer; `environment` reports what the process sees; `fail`
raises (an MCP tool error); `hang` never answers; `die` kills the server mid-call;
`garbage` writes a line that is not JSON-RPC to stdout, then never answers; `flood`
answers with as many characters as asked; `fill_disk` writes files until stopped."""

import asyncio
import json
import os
import sys
import time

from mcp.server.fastmcp import FastMCP


def build(port: int = 0) -> FastMCP:
    server = FastMCP("troupe-test", host="127.0.0.1", port=port, log_level="WARNING")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def shout(text: str) -> str:
        """Answer with the text in capitals."""
        return text.upper()

    @server.tool()
    def environment() -> str:
        """What this process sees: its environment's names, GREETING, its user id and folder."""
        return json.dumps(
            {
                "names": sorted(os.environ),
                "greeting": os.environ.get("GREETING"),
                "uid": os.getuid(),
                "cwd": os.getcwd(),
                "pid": os.getpid(),
            }
        )

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails, with the reason given."""
        raise ValueError(reason)

    @server.tool()
    async def hang() -> str:
        """Never answers."""
        await asyncio.sleep(3600)
        return "woke up"

    @server.tool()
    def die() -> str:
        """Kills the server process."""
        os._exit(3)

    @server.tool()
    def garbage() -> str:
        """Writes a line that is not JSON-RPC where the answer should be, then hangs."""
        os.write(1, b"this is not json at all\n")
        time.sleep(3600)
        return "never"

    @server.tool()
    def fill_disk(mb: int) -> str:
        """Writes 8 MB files in its folder, a few at a time, until `mb` are written."""
        for i in range(mb // 8):
            with open(f"part{i}", "wb") as out:
                out.write(b"x" * 8 * 1024 * 1024)
            time.sleep(0.05)
        return f"wrote {mb} MB"

    @server.tool()
    def flood(chars: int) -> str:
        """Answers with that many characters."""
        return "x" * chars

    return server


def main() -> None:
    mode = sys.argv[1]
    if mode == "mute":
        time.sleep(3600)
        return
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = build(port)
    transport = {"stdio": "stdio", "http": "streamable-http", "sse": "sse"}[mode]
    server.run(transport=transport)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
