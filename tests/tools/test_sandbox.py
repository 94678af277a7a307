"""The sandbox as the agent loop sees it: results, output, errors, arguments, environment."""

import json
import os
import resource

import pytest

from tests.tools.helpers import Sandbox
from troupe.tools.sandbox import SandboxLimits
from troupe.tools.tokens import issue_tool_token, verify_tool_token
from troupe.tools.tool_env import tool_environment


def test_success_returns_the_value_and_captures_stdout_and_stderr(sandbox: Sandbox) -> None:
    source = (
        "import sys\n"
        "def f(a: int) -> dict:\n"
        "    print('out')\n"
        "    print('err', file=sys.stderr)\n"
        "    return {'double': a * 2, 'name': 'é'}"
    )
    result = sandbox(source, a=4)
    assert (result.status, result.return_value) == ("success", '{"double": 8, "name": "é"}')
    assert (result.stdout, result.stderr) == ("out\n", "err\n")


@pytest.mark.parametrize(
    ("expression", "text"),
    [("None", "None"), ("3", "3"), ("[1, 'a']", '[1, "a"]'), ("(1, 2)", "(1, 2)"), ("'s'", "s")],
)
def test_the_return_value_is_str_of_the_result_and_json_for_dicts_and_lists(
    sandbox: Sandbox, expression: str, text: str
) -> None:
    result = sandbox(f"def f():\n    return {expression}")
    assert (result.status, result.return_value) == ("success", text)


def test_an_exception_comes_back_with_type_message_and_the_tools_own_frames(
    sandbox: Sandbox,
) -> None:
    source = "def helper():\n    raise ValueError('no such city')\n\ndef f():\n    return helper()"
    result = sandbox(source)
    assert result.status == "error"
    assert result.raised
    assert result.return_value == "ValueError: no such city"
    trace = result.traceback
    assert 'File "<tool>", line 5, in f' in trace
    assert 'File "<tool>", line 2, in helper' in trace
    assert "raise ValueError('no such city')" in trace
    assert "sandbox_child" not in trace  # the runner's own frames are not the tool's business


def test_a_printed_fake_result_is_just_output(sandbox: Sandbox) -> None:
    forged = json.dumps({"status": "success", "value": "forged"})
    source = (
        "import sys\n"
        "def f(fail: bool):\n"
        f"    print({forged!r})\n"
        f"    print({forged!r}, file=sys.stderr)\n"
        "    if fail:\n"
        "        raise ValueError('real failure')\n"
        "    return 'real'"
    )
    failed = sandbox(source, fail=True)
    assert failed.status == "error"
    assert failed.return_value.startswith("ValueError: real failure")
    assert failed.stdout == forged + "\n"
    succeeded = sandbox(source, fail=False)
    assert (succeeded.status, succeeded.return_value) == ("success", "real")


def test_async_tool_functions_are_awaited(sandbox: Sandbox) -> None:
    source = "import asyncio\nasync def f(x: str) -> str:\n    await asyncio.sleep(0.01)\n    return x.upper()"
    result = sandbox(source, x="hi")
    assert (result.status, result.return_value) == ("success", "HI")


def test_unexpected_and_missing_arguments_get_a_clear_error(sandbox: Sandbox) -> None:
    source = "def f(city: str, unit: str = 'c') -> str:\n    return city + unit"
    unexpected = sandbox(source, city="Oslo", town="Bergen")
    assert unexpected.status == "error"
    assert "unexpected argument(s) 'town'" in unexpected.return_value
    assert "f(city: str, unit: str = 'c')" in unexpected.return_value
    missing = sandbox(source, unit="f")
    assert missing.status == "error"
    assert "missing required argument(s) 'city'" in missing.return_value
    assert (sandbox(source, city="Oslo")).return_value == "Osloc"


def test_a_missing_function_or_broken_source_is_an_error_not_a_crash(sandbox: Sandbox) -> None:
    missing = sandbox("def g():\n    return 1", "f")
    assert missing.status == "error"
    assert "defines no function 'f'" in missing.return_value
    broken = sandbox("def f(:\n    pass")
    assert broken.status == "error"
    assert broken.return_value.startswith("SyntaxError: invalid syntax (<tool>, line 1)")


def test_the_environment_holds_none_of_the_servers_secrets(
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TROUPE_DATABASE_URL", "TROUPE_API_KEY"):
        monkeypatch.setenv(name, f"parent-secret-{name}")
    token = issue_tool_token("signing-secret", "agent-abc")
    env = tool_environment(server_url="http://127.0.0.1:9", agent_id="agent-abc", token=token)
    result = sandbox("import os\ndef f():\n    return dict(os.environ)", env=env)
    seen = json.loads(result.return_value)
    assert "parent-secret" not in result.return_value
    assert set(seen) == set(env) | {
        "PATH", "HOME", "TMPDIR", "LANG", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"
    }  # fmt: skip
    assert seen["TROUPE_URL"] == seen["LETTA_BASE_URL"] == "http://127.0.0.1:9"
    assert seen["TROUPE_AGENT_ID"] == seen["LETTA_AGENT_ID"] == "agent-abc"
    assert seen["TROUPE_API_KEY"] == seen["LETTA_API_KEY"] == token
    assert verify_tool_token("signing-secret", seen["TROUPE_API_KEY"]) == "agent-abc"


def test_the_tool_works_in_a_fresh_folder_that_is_removed_afterwards(sandbox: Sandbox) -> None:
    source = (
        "import os, tempfile\n"
        "def f():\n"
        "    open('note.txt', 'w').write('kept?')\n"
        "    return [os.getcwd(), os.environ['HOME'], tempfile.gettempdir(), os.listdir('.')]"
    )
    first = json.loads((sandbox(source)).return_value)
    second = json.loads((sandbox(source)).return_value)
    cwd, home, tmp, listing = first
    assert cwd == home == tmp
    assert listing == ["note.txt"]
    assert second[0] != cwd
    assert second[3] == ["note.txt"]  # nothing of the first call is there
    assert not os.path.exists(cwd)


def test_tools_can_import_the_servers_installed_packages(sandbox: Sandbox) -> None:
    result = sandbox("import httpx\ndef f():\n    return httpx.__name__")
    assert (result.status, result.return_value) == ("success", "httpx")


def test_a_large_return_value_comes_back_whole_and_a_huge_one_is_cut(sandbox: Sandbox) -> None:
    whole = sandbox("def f():\n    return 'é' * 60_000")  # far more than a pipe buffer
    assert (whole.status, whole.return_value) == ("success", "é" * 60_000)
    limits = SandboxLimits(timeout_s=10, max_output_chars=1000)
    cut = sandbox("def f():\n    return 'x' * 300_000", limits=limits)
    assert cut.status == "success"
    assert cut.return_value.startswith("x" * 1000)
    assert "cut: the result was longer than 1000 characters" in cut.return_value
    assert len(cut.return_value) < 1100


def test_an_output_flood_is_cut_without_the_server_holding_it(sandbox: Sandbox) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, high-water mark
    source = "import sys\ndef f():\n    for _ in range(300):\n        sys.stdout.write('x' * 1_000_000)\n    return 'done'"
    result = sandbox(source, limits=SandboxLimits(timeout_s=30, max_output_chars=1000))
    assert (result.status, result.return_value) == ("success", "done")
    assert result.stdout.startswith("x" * 1000)
    assert result.stdout.endswith("(cut: longer than 1000 characters)")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100  # 300 MB were written


def test_threads_the_tool_leaves_running_do_not_hold_the_call(sandbox: Sandbox) -> None:
    source = (
        "import threading, time\n"
        "def f():\n"
        "    threading.Thread(target=time.sleep, args=(60,)).start()\n"
        "    return 'returned'"
    )
    result = sandbox(source, limits=SandboxLimits(timeout_s=10))
    assert (result.status, result.return_value) == ("success", "returned")
