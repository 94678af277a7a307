"""The README's examples run as written: a doc that lies is a bug."""

import json
import re
import subprocess
from pathlib import Path

import httpx

from tests.server.helpers import make_agent, of_type, script, send
from tests.support.servers import REPO_ROOT, ServerProcess


def readme_python_block(starting_with: str) -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    found = [b for b in blocks if b.startswith(starting_with)]
    assert len(found) == 1, f"the README has no single python block starting {starting_with!r}"
    return found[0]


def test_the_readme_agent_to_agent_tool_asks_another_agent(fresh_server: ServerProcess) -> None:
    source = readme_python_block("def ask_reviewer(")
    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        tool = http.post("/v1/tools/", json={"source_code": source})
        assert tool.status_code == 200, tool.text
        assert tool.json()["name"] == "ask_reviewer"
        make_agent(http, name="reviewer", model="test/echo")
        asker = make_agent(http, tools=["ask_reviewer"])

        reply = send(
            http,
            asker["id"],
            script(
                {"tool": "ask_reviewer", "args": {"question": "Is the Q1 report ready?"}},
                {"tool": "send_message", "args": {"message": "asked"}},
            ),
        )

    returns = of_type(reply, "tool_return_message")
    assert returns[0]["status"] == "success", returns[0]
    assert returns[0]["tool_return"] == "echo: Is the Q1 report ready?"
    assert json.loads(of_type(reply, "tool_call_message")[0]["tool_call"]["arguments"])[
        "question"
    ] == ("Is the Q1 report ready?")


def test_the_readme_names_only_files_that_exist() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for path in re.findall(
        r"`((?:troupe|tests|examples|scripts|benchmarks)/[\w./-]+\.\w+)`", readme
    ):
        if _ignored_by_git(path):  # an output the README describes, e.g. a results file
            continue
        assert Path(REPO_ROOT, path).exists(), f"README names {path}, which does not exist"


def _ignored_by_git(path: str) -> bool:
    check = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO_ROOT, check=False)
    return check.returncode == 0
