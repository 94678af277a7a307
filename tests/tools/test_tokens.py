"""Scoped tool tokens."""

import re

import pytest

from troupe.config import Settings
from troupe.tools.tokens import issue_tool_token, tool_token_secret, verify_tool_token


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def test_round_trip_names_the_agent() -> None:
    assert verify_tool_token("s", issue_tool_token("s", "agent-1")) == "agent-1"


def test_a_changed_signature_or_body_is_refused() -> None:
    prefix, body, signature = issue_tool_token("s", "agent-1").split(".")
    assert verify_tool_token("s", f"{prefix}.{body}.{_flip(signature, 5)}") is None
    forged_body = issue_tool_token("s", "agent-2").split(".")[1]
    assert verify_tool_token("s", f"{prefix}.{forged_body}.{signature}") is None


def test_wrong_secret_expired_and_malformed_tokens_are_refused() -> None:
    assert verify_tool_token("other", issue_tool_token("s", "agent-1")) is None
    assert verify_tool_token("s", issue_tool_token("s", "agent-1", ttl_s=-1)) is None
    for junk in ["", "tt1", "tt1..", "a.b.c", "tt1.!!!.x", "the-api-key"]:
        assert verify_tool_token("s", junk) is None


def test_servers_sharing_an_api_key_accept_each_others_tokens() -> None:
    first, second = Settings(api_key="k"), Settings(api_key="k")
    assert tool_token_secret(first) == tool_token_secret(second)
    assert tool_token_secret(first) != tool_token_secret(Settings(api_key="j"))
    token = issue_tool_token(tool_token_secret(first), "agent-x")
    assert verify_tool_token(tool_token_secret(second), token) == "agent-x"


def test_tokens_are_url_safe_text_and_agent_ids_with_dots_survive() -> None:
    token = issue_tool_token("s", "agent-with.dots.in-it")
    assert re.fullmatch(r"[A-Za-z0-9_.\-]+", token)
    assert verify_tool_token("s", token) == "agent-with.dots.in-it"


def test_non_ascii_junk_is_refused_not_an_exception() -> None:
    prefix, body, signature = issue_tool_token("s", "agent-1").split(".")
    for junk in [f"{prefix}.{body}.é{signature[1:]}", "tt1.é.é", "\udcff", "tt1.\x00.\x00"]:
        assert verify_tool_token("s", junk) is None


def test_a_token_needs_an_agent() -> None:
    with pytest.raises(ValueError, match="id of the agent"):
        issue_tool_token("s", "")
