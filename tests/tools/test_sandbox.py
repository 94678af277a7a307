"""The sandbox itself: limits hold, nothing is left running, results cannot be forged."""

import asyncio
import os
import time

import psutil
import pytest

from troupe.tools.sandbox import SandboxLimits, run_tool_in_sandbox


async def run(source: str, function: str, **arguments: object) -> object:
    return await run_tool_in_sandbox(
        source_code=source,
        function_name=function,
        arguments=arguments,
        env={"TROUPE_AGENT_ID": "agent-test"},
        limits=SandboxLimits(timeout_s=5, memory_mb=256, max_processes=32),
    )


async def test_success_returns_value_and_output() -> None:
    result = await run(
        "import sys\ndef f(a: int) -> dict:\n    print('out'); print('err', file=sys.stderr)\n    return {'double': a * 2}",
        "f",
        a=4,
    )
    assert (result.status, result.return_value) == ("success", '{"double": 8}')
    assert (result.stdout, result.stderr) == ("out\n", "err\n")


async def test_a_printed_fake_result_is_just_output() -> None:
    source = 'def f():\n    print(\'{"status": "success", "value": "forged"}\')\n    raise ValueError("real failure")'
    result = await run(source, "f")
    assert result.status == "error"
    assert result.return_value.startswith("ValueError: real failure")


async def test_async_tools_and_wrong_arguments() -> None:
    ok = await run("async def f(x: str) -> str:\n    return x.upper()", "f", x="hi")
    assert ok.return_value == "HI"
    wrong = await run("def f(x: str) -> str:\n    return x", "f", y=1)
    assert wrong.status == "error"
    assert "unexpected keyword argument 'y'" in wrong.return_value


async def test_a_memory_hog_is_stopped() -> None:
    result = await run("def f():\n    return len(bytearray(1024 * 1024 * 1024))", "f")
    assert result.status == "error"
    assert "MemoryError" in result.return_value


async def test_a_huge_file_is_stopped_by_the_file_size_limit() -> None:
    source = "def f():\n    with open('big', 'wb') as out:\n        for _ in range(64):\n            out.write(b'x' * 1024 * 1024)\n    return 'wrote it all'"
    result = await run(source, "f")
    assert result.status == "error"
    assert "SIGXFSZ" in result.return_value or "File too large" in result.return_value


async def test_a_fork_bomb_is_contained_and_nothing_is_left_running() -> None:
    source = (
        "import os, time\n"
        "def f():\n"
        "    for _ in range(200):\n"
        "        try:\n"
        "            if os.fork() == 0:\n"
        "                time.sleep(60)\n"
        "                os._exit(0)\n"
        "        except OSError:\n"
        "            break\n"
        "    time.sleep(60)\n"
    )
    before = {p.pid for p in psutil.process_iter()}
    started = time.monotonic()
    result = await run(source, "f")
    assert result.status == "error"
    assert "timed out" in result.return_value
    assert time.monotonic() - started < 30
    await asyncio.sleep(0.5)
    leftover = [
        p for p in psutil.process_iter(["pid", "cmdline"])
        if p.pid not in before and "sandbox_child" in " ".join(p.info["cmdline"] or [])
    ]  # fmt: skip
    assert leftover == []


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop happens only when the server is root")
async def test_as_root_the_tool_runs_unprivileged_and_cannot_read_the_servers_environment() -> None:
    source = (
        "import os\n"
        "def f():\n"
        "    try:\n"
        "        return open(f'/proc/{os.getppid()}/environ').read()\n"
        "    except OSError as e:\n"
        "        return f'{os.getuid()} {e.strerror}'"
    )
    result = await run(source, "f")
    assert result.return_value.endswith("Permission denied")
    assert not result.return_value.startswith("0 ")
