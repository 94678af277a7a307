"""The supervisor–worker cookbook: the team of Letta's multi-agent guide, runnable offline.

`team` defines the team (shared block, agents, prompts, tool rules) as the JSON bodies of
Letta's create calls; `report` turns what the server recorded into a log a person can read;
`watch` shows progress and fetches traces (troupe-only endpoints, plain HTTP); `workflow`
holds the workflow's two steps with the official SDK, which `troupe demo` (troupe.cli.demo)
calls, and so do the scripts in examples/multi-agent-workflow/."""
