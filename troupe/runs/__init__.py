"""Runs: the record of each request to an agent (a typed `RunRequest`), the executor that
carries them out, and the per-agent locks that keep an agent to one turn at a time."""
