"""The team of the cookbook: a shared `team_tasks` block, a supervisor and three workers.

Everything here is plain data, the JSON bodies of Letta's `blocks.create` and
`agents.create`, so the SDK scripts and `troupe demo` build exactly the same team.

With tool rules (the default), the flow is fixed even on a 135M model: the supervisor's
first act is the broadcast to the workers (its tags prefilled), then its reply; each
worker's first act is `memory_replace` of its own task's status in the shared block, with
the old and new text prefilled by the rule (Letta's InitToolRule `args`), then its reply.
The words of the messages are the model's. Without tool rules (`--no-tool-rules`, for real
models) the prompts alone ask for the same flow and the model writes its own edits."""

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

DEFAULT_MODEL = "local/smollm2-135m"
# The server a demo starts for itself. The embedded model runs one completion at a time, so
# the broadcast's last worker answers only after every other worker's steps: on a busy
# 2-core machine that took more than the default 120 s a broadcast waits for each reply.
DEMO_SERVER_ENV = {"TROUPE_REPLY_TIMEOUT": "900"}
TEAM_TAG = "quarterly-analysis"
SHARED_LABEL = "team_tasks"
BROADCAST = "send_message_to_agents_matching_all_tags"
EDIT = "memory_replace"
EXAMPLE_MESSAGE = (
    "What's the status of our quarterly analysis project? Please coordinate with all workers "
    "to provide a progress update focusing on Q1 growth trends in the eastern region."
)

SEED_TASKS: dict[str, Any] = {
    "active_tasks": [
        {
            "id": "task-001",
            "description": "Analyze quarterly sales data",
            "assigned_to": "worker_1",
            "status": "in_progress",
            "due_date": "2025-04-15",
        },
        {
            "id": "task-002",
            "description": "Create summary report",
            "assigned_to": "worker_2",
            "status": "pending",
            "due_date": "2025-04-20",
        },
        {
            "id": "task-003",
            "description": "Prepare presentation slides",
            "assigned_to": "worker_3",
            "status": "not_started",
            "due_date": "2025-04-25",
        },
    ],
    "team_notes": "Focus on highlighting Q1 growth trends in the eastern region",
    "last_updated": "2025-04-09T08:00:00Z",
}
# Where a progress update moves each status (the rule-driven edit of a worker).
NEXT_STATUS = {"not_started": "in_progress", "pending": "in_progress", "in_progress": "in_review"}
WORKER_FOCUS = {
    "worker_1": "sales data analysis",
    "worker_2": "written summary reports",
    "worker_3": "presentation slides",
}

SUPERVISOR_SYSTEM = (
    "You are the supervisor of three worker agents; the team's tasks are in your team_tasks "
    "memory block. When the user asks for something, first pass the request on to all "
    f"workers with {BROADCAST}{{tags}} in one sentence that keeps the user's words, "
    "then sum up their replies for the user with send_message, one sentence per worker. "
    'For example, the user asks "How is the budget review going?"; you send "Please report '
    'how your part of the budget review is going." and answer "worker_1 has checked the '
    'budget figures. worker_2 ..."'
)
WORKER_SYSTEM = (
    "You are {name}, a worker agent; your task is {task_id}, {description}, in the "
    "team_tasks memory block. When the supervisor writes, first update the status of your "
    "task in team_tasks with memory_replace, then answer the supervisor with send_message in "
    "one sentence that names your task and how it is going, for example "
    '"My task to check the budget figures is going well."'
)

# What the model may write, where a small model goes astray (the rules' `args_schema`, held
# by the embedded model's grammar): sentences of words, each bounded so that a call fits a
# step's token budget. A worker replies in one sentence of letters and spaces that starts
# with its task (else SmolLM2-135M answers "The report is ready.", or names the first task
# on the board, whatever its own); the
# supervisor passes the request on in one sentence (digits allowed: "Q1"), and answers the
# user with one sentence per worker, each starting with the worker's name, so that its
# answer accounts for every worker (SmolLM2-135M otherwise sums up three replies as one
# vague sentence, or a copied timestamp).
WORD = "[A-Za-z][a-z]*"


def reply_schema(task: dict[str, Any]) -> dict[str, str]:
    """A worker's reply: "My task to <its task> is <the model's words>."."""
    named = " ".join(re.findall(r"[a-z]+", task["description"].lower()))
    return {"type": "string", "pattern": f"^My task to {named} is( {WORD}){{1,12}}\\.$"}


REQUEST_SCHEMA = {"type": "string", "pattern": "^[A-Z][a-z]*( [A-Za-z0-9][a-z0-9]*){3,20}[.?]$"}


def answer_schema(names: list[str]) -> dict[str, str]:
    """The supervisor's answer: "worker_1 <words>. worker_2 <words>. ..." in this order."""
    sentences = " ".join(f"{name}( [a-z]+){{2,12}}\\." for name in names)
    return {"type": "string", "pattern": f"^{sentences}$"}


def tasks_text(tasks: dict[str, Any]) -> str:
    """The block's value: the tasks as JSON, one task per line. It parses back to `tasks`;
    it reads in fewer tokens than indented JSON (what a small model pays for at every step)
    and gives each task's status a fragment no other task shares (see `status_text`)."""
    rows = ",\n".join("  " + json.dumps(t, ensure_ascii=False) for t in tasks["active_tasks"])
    rest = {k: v for k, v in tasks.items() if k != "active_tasks"}
    tail = "".join(
        f",\n {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in rest.items()
    )
    return '{"active_tasks": [\n' + rows + "\n ]" + tail + "}"


def status_text(worker: str, status: str) -> str:
    """The text of a task's assignee and status in the block: unique per task."""
    return f'"assigned_to": {json.dumps(worker)}, "status": {json.dumps(status)}'


@dataclass(frozen=True)
class Member:
    name: str
    persona: str
    body: dict[str, Any]  # the agents.create body, without block_ids and model


def shared_block() -> dict[str, Any]:
    return {
        "label": SHARED_LABEL,
        "value": tasks_text(SEED_TASKS),
        "limit": 5000,
        "description": "The team's tasks and their status; every agent of the team shares it.",
    }


def new_team_id() -> str:
    """A tag of this team alone. Broadcasts go to every agent with all the given tags, so
    with the team's own tag among them, a second team on the server (step 1 run twice, or
    tests sharing a server) never receives the first one's messages."""
    return f"team-{uuid.uuid4().hex[:8]}"


def worker_tags(team_id: str) -> list[str]:
    return [team_id, "worker"]


def supervisor(tool_rules: bool, team_id: str) -> Member:
    tags = worker_tags(team_id)
    names = [t["assigned_to"] for t in SEED_TASKS["active_tasks"]]
    rules = [
        {
            "type": "run_first",
            "tool_name": BROADCAST,
            "args": {"tags": tags},
            "args_schema": {"message": REQUEST_SCHEMA},
        },
        {"type": "constrain_child_tools", "tool_name": BROADCAST, "children": ["send_message"]},
        {
            "type": "exit_loop",
            "tool_name": "send_message",
            "args_schema": {"message": answer_schema(names)},
        },
    ]
    return Member(
        "supervisor",
        "I am the supervisor. I ask my workers how their tasks are going and report back to "
        "the user in plain words.",
        {
            "name": "supervisor",
            "description": "Coordinates the worker agents",
            # With the rules the tags are prefilled: naming them only made the model write
            # "to all workers with the specified tags" into its message.
            "system": SUPERVISOR_SYSTEM.format(
                tags="" if tool_rules else f" (tags {json.dumps(tags)})"
            ),
            "include_base_tools": False,
            "tools": ["send_message", BROADCAST],
            "tool_rules": rules if tool_rules else [],
            "tags": [TEAM_TAG, team_id, "supervisor"],
        },
    )


def workers(tool_rules: bool, team_id: str) -> list[Member]:
    members = []
    for task in SEED_TASKS["active_tasks"]:
        name, status = task["assigned_to"], task["status"]
        edit = {
            "label": SHARED_LABEL,
            "old_str": status_text(name, status),
            "new_str": status_text(name, NEXT_STATUS.get(status, status)),
        }
        rules = [
            {"type": "run_first", "tool_name": EDIT, "args": edit},
            {"type": "constrain_child_tools", "tool_name": EDIT, "children": ["send_message"]},
            {
                "type": "exit_loop",
                "tool_name": "send_message",
                "args_schema": {"message": reply_schema(task)},
            },
        ]
        members.append(
            Member(
                name,
                f"I am {name}; I do {WORKER_FOCUS[name]}, and my task is to "
                f"{task['description'].lower()}. I tell the supervisor in plain words "
                "how my task is going.",
                {
                    "name": name,
                    "description": f"Worker focused on {WORKER_FOCUS[name]}",
                    "system": WORKER_SYSTEM.format(
                        name=name, task_id=task["id"], description=task["description"].lower()
                    ),
                    "include_base_tools": False,
                    "tools": ["send_message", EDIT],
                    "tool_rules": rules if tool_rules else [],
                    "tags": [TEAM_TAG, *worker_tags(team_id)],
                },
            )
        )
    return members


def persona_block(member: Member) -> dict[str, Any]:
    return {"label": "persona", "value": member.persona}


def agent_body(member: Member, shared_id: str, persona_id: str, model: str) -> dict[str, Any]:
    """The persona is a block of its own, attached after the shared one, so it is the last
    thing the agent reads before its tools: a small model then writes sentences, where
    after the task board's JSON it writes timestamps."""
    return {**member.body, "block_ids": [shared_id, persona_id], "model": model}


def step_two_command(supervisor_id: str, worker_ids: list[str], server: str) -> str:
    """The exact command of step 2, as step 1 prints it."""
    quoted = EXAMPLE_MESSAGE.replace("'", "'\\''")
    return (
        "python examples/multi-agent-workflow/interact_with_multi_agent.py "
        f"--server {server} --supervisor {supervisor_id} --workers {' '.join(worker_ids)} "
        f"--message '{quoted}' --output my_log.txt"
    )
