"""Step 1 of the supervisor–worker workflow: a shared task board, a supervisor, three workers.

    python examples/multi-agent-workflow/1_multi_agent_letta.py [--server URL] [--model HANDLE]

With the official letta-client SDK (1.x or 0.1.x) this script:
- connects to the server (`Letta(base_url=...)`),
- creates the shared memory block `team_tasks` with the team's tasks (`client.blocks.create`),
- creates the supervisor, with the broadcast tool `send_message_to_agents_matching_all_tags`,
  and three workers, each with its own system prompt, persona, tags and `memory_replace`,
  all attached to that one block (`client.agents.create(..., block_ids=[block.id])`),
- prints the ids and the exact command of step 2.

The team itself (tasks, prompts, tool rules) is defined once, in troupe/cookbook/team.py;
the SDK calls are in troupe/cookbook/workflow.py (`create_team`), which `troupe demo` runs too.
"""

import argparse
import os
import sys

from troupe.cookbook import team, workflow


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("TROUPE_URL", "http://127.0.0.1:8283"))
    parser.add_argument(
        "--model",
        default=team.DEFAULT_MODEL,
        help="model handle for every agent, e.g. openai/gpt-4.1-mini (default: %(default)s)",
    )
    parser.add_argument(
        "--no-tool-rules",
        action="store_true",
        help="let the model decide the flow (for real models; the tiny default needs the rules)",
    )
    args = parser.parse_args()

    client = workflow.connect(args.server)
    ids = workflow.create_team(client, model=args.model, tool_rules=not args.no_tool_rules)
    print("\nNext, step 2:")
    print(team.step_two_command(ids.supervisor_id, ids.worker_ids, args.server))
    return 0


if __name__ == "__main__":
    sys.exit(workflow.run_script(main))
