"""Pydantic v2 wire models: the one definition used by server, CLI and tests."""
