"""Scoped tokens for user tools.

Scope: a tool token authenticates the API calls a user tool makes, on behalf of the one agent
it runs for, while it runs (until it expires; issue it with a TTL a little above the tool
timeout). It is what the sandbox hands a tool as TROUPE_API_KEY instead of the server's key,
which a tool never sees. The server accepts it as a Bearer token wherever it accepts its API
key, and tells requests made with it by the agent id it names (`verify_tool_token`).

Format: `tt1.<base64url(agent_id "." expiry)>.<base64url(HMAC-SHA256(secret, same))>`, all
URL-safe text. The secret derives from TROUPE_API_KEY, so several server processes sharing
one key accept each other's tokens, and changing the key revokes every token."""

import base64
import hashlib
import hmac
import secrets
import time

from troupe.config import Settings

PREFIX = "tt1"
_LABEL = b"troupe tool tokens"
_process_secret = secrets.token_hex(32)


def tool_token_secret(settings: Settings) -> str:
    """The signing secret of this deployment: derived from the API key (never the key itself,
    so a token reveals nothing about it); without a key auth is off, any secret will do."""
    if settings.api_key:
        return hmac.new(settings.api_key.encode(), _LABEL, hashlib.sha256).hexdigest()
    return _process_secret


def issue_tool_token(secret: str, agent_id: str, ttl_s: int = 3600) -> str:
    """A token that speaks for `agent_id` for the next `ttl_s` seconds."""
    if not agent_id:
        raise ValueError("a tool token needs the id of the agent it speaks for")
    body = f"{agent_id}.{int(time.time()) + ttl_s}"
    return f"{PREFIX}.{_b64(body.encode())}.{_sign(secret, body)}"


def verify_tool_token(secret: str, token: str) -> str | None:
    """The agent id the token speaks for, or None if it is forged, malformed or expired."""
    try:
        prefix, encoded, signature = token.split(".")
        if prefix != PREFIX:
            return None
        body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        # Bytes, not str: compare_digest refuses non-ASCII text; headers can carry any byte.
        if not hmac.compare_digest(signature.encode(), _sign(secret, body).encode()):
            return None
    except (ValueError, UnicodeError):
        return None
    agent_id, _, expires = body.rpartition(".")
    if not agent_id or not expires.isascii() or not expires.isdigit():
        return None
    if int(expires) < time.time():
        return None
    return agent_id


def _sign(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
