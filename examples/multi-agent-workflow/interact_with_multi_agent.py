"""Step 2 of the supervisor–worker workflow: message the supervisor, let it coordinate the
workers, and write a log a person can read.

    python examples/multi-agent-workflow/interact_with_multi_agent.py \\
        --supervisor AGENT_ID --workers AGENT_ID AGENT_ID AGENT_ID \\
        --message "What's the status of our quarterly analysis project? ..." \\
        --output my_log.txt [--server URL] [--interactive]

With the official letta-client SDK (1.x or 0.1.x) this script sends the message to the
supervisor (`client.agents.messages.create`), shows the team's progress while it works,
reads every agent's messages (`client.agents.messages.list`) and the shared block
(`client.blocks.retrieve`), and fetches the request's trace (GET /v1/traces/{trace_id},
troupe only, plain HTTP). The log holds: the configuration, the shared memory before and
after, every agent's activity in time order (cross-agent messages as sender → receiver),
and the trace as a Mermaid sequence diagram.

The SDK calls are in troupe/cookbook/workflow.py (`Session`), the log in
troupe/cookbook/report.py; `troupe demo` runs the same code.
"""

import argparse
import os
import sys
from collections.abc import Iterator
from datetime import datetime

from troupe.cookbook import workflow


def messages(first: str, interactive: bool) -> Iterator[str]:
    yield first
    while interactive:
        try:
            text = input("next message (empty to stop): ").strip()
        except EOFError:
            return
        if not text:
            return
        yield text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supervisor", required=True, help="the supervisor's agent id")
    parser.add_argument("--workers", nargs="+", required=True, help="the workers' agent ids")
    parser.add_argument("--message", required=True, help="what to ask the supervisor")
    parser.add_argument("--output", required=True, help="where to write the log")
    parser.add_argument("--server", default=os.environ.get("TROUPE_URL", "http://127.0.0.1:8283"))
    parser.add_argument("--interactive", action="store_true", help="keep asking for messages")
    args = parser.parse_args()

    client = workflow.connect(args.server)
    session = workflow.Session(client, args.server, args.supervisor, args.workers, print)
    summary = workflow.run_session(
        session, messages(args.message, args.interactive), args.output, datetime.now()
    )
    print(f"\nlog written to {args.output}")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(workflow.run_script(main))
