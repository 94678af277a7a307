"""The supervisor–worker cookbook: the team of Letta's multi-agent guide, runnable offline.

`team` defines the team (shared block, agents, prompts, tool rules) as the JSON bodies of
Letta's create calls; `report` turns what the server recorded into a log a person can read;
`watch` shows progress and fetches traces (troupe-only endpoints, plain HTTP); `demo` runs
the whole workflow over HTTP for `troupe demo`. The scripts in examples/multi-agent-workflow/
do the same with the official letta-client SDK, on top of `team` and `report`."""
