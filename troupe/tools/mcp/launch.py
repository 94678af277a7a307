"""Starts a stdio MCP server inside the tool sandbox's limits (standard library only; run
with `python -I`).

argv[1] is a JSON job: {limits, uid, exclusive, pid_file, command, args}. The launcher
records its pid (the server keeps it: exec replaces the program, not the process), applies
the same rlimits and user switch as a user tool's process (sandbox_child.confine), then
execs the server's command with the environment it was given, which troupe built from
nothing but the variables the server's config names."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # -I: no script folder
from sandbox_child import confine


def main() -> None:
    job = json.loads(sys.argv[1])
    Path(job["pid_file"]).write_text(str(os.getpid()))
    try:
        confine(job["limits"], job.get("uid"), exclusive=job.get("exclusive", False))
    except (OSError, ValueError) as exc:
        # Never run the server with more rights than planned.
        print(f"troupe could not confine the MCP server: {exc}", file=sys.stderr)
        os._exit(126)
    command = job["command"]
    try:
        os.execvpe(command, [command, *job["args"]], dict(os.environ))
    except OSError as exc:
        print(f"troupe could not start {command!r}: {exc.strerror}", file=sys.stderr)
        os._exit(127)


if __name__ == "__main__":
    main()
