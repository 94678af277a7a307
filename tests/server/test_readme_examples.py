"""The README's and docs/ pages' examples run as written: a doc that lies is a bug."""

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.server.helpers import make_agent, of_type, script, send
from tests.support.servers import REPO_ROOT, ServerProcess

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def python_block(doc: str, starting_with: str) -> str:
    text = (REPO_ROOT / doc).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    found = [b for b in blocks if b.startswith(starting_with)]
    assert len(found) == 1, f"{doc} has no single python block starting {starting_with!r}"
    return found[0]


def run_against(server: ServerProcess, source: str) -> str:
    """Run a documented letta-client snippet as a user would, pointed at `server`."""
    source = source.replace("http://127.0.0.1:8283", server.url)
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_the_readme_quick_start_talks_to_an_agent_on_the_embedded_model(
    fresh_server: ServerProcess,
) -> None:
    out = run_against(fresh_server, python_block("README.md", "from letta_client import Letta"))
    printed_types = [line.split(" ", 1)[0] for line in out.splitlines()]
    assert "assistant_message" in printed_types, out
    with httpx.Client(base_url=fresh_server.url) as http:
        (agent,) = http.get("/v1/agents/", params={"name": "helper"}).json()
    assert agent["tags"] == ["demo"]


def test_the_multi_agent_page_shares_one_block_between_a_team(
    fresh_server: ServerProcess,
) -> None:
    out = run_against(fresh_server, python_block("docs/multi-agent.md", "from letta_client"))
    assert "worker_1" in out
    with httpx.Client(base_url=fresh_server.url) as http:
        (block,) = http.get("/v1/blocks/", params={"label": "team_tasks"}).json()
        holders = http.get(f"/v1/blocks/{block['id']}/agents").json()
    assert [a["name"] for a in holders] == ["worker_1"]


def test_the_readme_agent_to_agent_tool_asks_another_agent(fresh_server: ServerProcess) -> None:
    source = python_block("docs/agents.md", "def ask_reviewer(")
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


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_the_docs_name_only_files_that_exist(doc: Path) -> None:
    for path in re.findall(
        r"`((?:troupe|tests|examples|scripts|benchmarks)/[\w./-]+\.\w+)`", doc.read_text()
    ):
        if _ignored_by_git(path):  # an output the docs describe, e.g. a results file
            continue
        assert Path(REPO_ROOT, path).exists(), f"{doc.name} names {path}, which does not exist"


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_the_docs_link_only_to_pages_that_exist(doc: Path) -> None:
    for target in re.findall(r"\]\(([\w./-]+\.(?:md|png))(?:#[\w-]+)?\)", doc.read_text()):
        assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which does not exist"


def test_the_readme_starts_with_the_two_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text().splitlines()
    assert readme[2] == "```sh"
    assert readme[3].startswith("make demo ")
    assert readme[4].startswith("make test ")


def _ignored_by_git(path: str) -> bool:
    check = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO_ROOT, check=False)
    return check.returncode == 0
