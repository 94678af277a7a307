"""troupe: a server for stateful multi-agent LLM systems, compatible with Letta's /v1 API."""

__version__ = "0.1.0"
