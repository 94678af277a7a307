"""The agent: context compilation and the step loop. Knows nothing of HTTP."""
