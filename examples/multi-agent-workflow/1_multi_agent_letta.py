"""Step 1 of the supervisor-worker workflow: a shared task board, a supervisor, three workers.

Runs against any troupe (or Letta) server with the official `letta-client` SDK:

    python examples/multi-agent-workflow/1_multi_agent_letta.py [--server URL] [--model HANDLE]
"""

import argparse
import json
import os

from letta_client import Letta

TEAM_TAG = "quarterly-analysis"
SHARED_TASKS = {
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

SUPERVISOR_SYSTEM = (
    "You are the supervisor of a team of worker agents. When the user asks for something, "
    "send it to all workers at once with send_message_to_agents_matching_all_tags using the "
    f"tags ['{TEAM_TAG}', 'worker'], then summarise their replies to the user with send_message. "
    "The team's tasks are in your team_tasks memory block."
)
WORKER_SYSTEM = (
    "You are {name}, a worker agent. The team's tasks are in your team_tasks memory block. "
    "When the supervisor messages you, update the status of your own task in team_tasks with "
    "core_memory_replace, then reply with send_message in one or two sentences."
)
WORKER_FOCUS = [
    "sales data analysis",
    "written summary reports",
    "presentation slides",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("TROUPE_URL", "http://127.0.0.1:8283"))
    parser.add_argument("--model", default="local/smollm2-135m", help="model handle for all agents")
    args = parser.parse_args()

    client = Letta(base_url=args.server, api_key=os.environ.get("TROUPE_API_KEY"))
    shared = client.blocks.create(
        label="team_tasks",
        value=json.dumps(SHARED_TASKS, indent=2),
        limit=5000,
        description="The team's tasks and their status; every agent of the team shares it.",
    )
    print(f"shared block team_tasks: {shared.id}")

    supervisor = client.agents.create(
        name="supervisor",
        description="Coordinates the worker agents",
        system=SUPERVISOR_SYSTEM,
        memory_blocks=[{"label": "persona", "value": "I am the supervisor of the analysis team."}],
        block_ids=[shared.id],
        tools=["send_message_to_agents_matching_all_tags"],
        tags=[TEAM_TAG, "supervisor"],
        model=args.model,
    )
    print(f"supervisor: {supervisor.id}")

    workers = []
    for number, focus in enumerate(WORKER_FOCUS, start=1):
        name = f"worker_{number}"
        worker = client.agents.create(
            name=name,
            description=f"Worker focused on {focus}",
            system=WORKER_SYSTEM.format(name=name),
            memory_blocks=[{"label": "persona", "value": f"I am {name}; I handle {focus}."}],
            block_ids=[shared.id],
            tags=[TEAM_TAG, "worker"],
            model=args.model,
        )
        workers.append(worker)
        print(f"{name}: {worker.id}")

    print("\nNext, step 2:")
    print(
        "python examples/multi-agent-workflow/interact_with_multi_agent.py "
        f"--supervisor {supervisor.id} --workers {' '.join(w.id for w in workers)} "
        "--message \"What's the status of our quarterly analysis project? Please coordinate "
        "with all workers to provide a progress update focusing on Q1 growth trends in the "
        'eastern region." --output my_log.txt'
    )


if __name__ == "__main__":
    main()
