"""Agent Files (.af) through both SDK lines on a real server: Letta's public example files
import unchanged and answer; an export imports back as the same agents; bad files import
nothing."""

import io
from pathlib import Path
from typing import Any

import httpx

from tests.server.helpers import script, unique

EXAMPLES = Path(__file__).parent.parent / "fixtures" / "agent_files"
WORKFLOW = EXAMPLES / "outreach_workflow_agent.af"


def upload(path: Path) -> tuple[str, io.BytesIO, str]:
    return (path.name, io.BytesIO(path.read_bytes()), "application/json")


def test_letta_workflow_example_imports_and_runs_its_tools(client: Any, http: httpx.Client) -> None:
    suffix = unique("x")
    imported = client.agents.import_file(
        file=upload(WORKFLOW), model="test/scripted", name=f"outreach-{suffix}"
    )
    [agent_id] = imported.agent_ids
    agent = client.agents.retrieve(agent_id)
    assert agent.name == f"outreach-{suffix}"
    assert agent.model == "test/scripted"
    assert {t.name for t in agent.tools} == {
        "reject", "send_email", "retrieve_candidate", "evaluate_candidate",
    }  # fmt: skip
    assert [r.type for r in agent.tool_rules][:3] == [
        "run_first",
        "constrain_child_tools",
        "conditional",
    ]
    assert agent.llm_config.model_endpoint != "https://api.openai.com/v1"

    steps = [{"tool": "retrieve_candidate", "args": {"candidate_name": "Ada"}}, {"text": "ok"}]
    response = http.post(
        f"/v1/agents/{agent_id}/messages",
        json={"messages": [{"role": "user", "content": script(*steps)}]},
    )
    assert response.status_code == 200, response.text
    returns = [m for m in response.json()["messages"] if m["message_type"] == "tool_return_message"]
    assert "Ada is a software engineer" in returns[0]["tool_return"]
