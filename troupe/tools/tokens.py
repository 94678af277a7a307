"""Scoped tokens for user tools: a tool running in the sandbox on behalf of an agent may call
this server's API with one, for as long as the token lives. Several server processes that
share TROUPE_API_KEY accept each other's tokens, since the secret derives from the key."""

import base64
import hashlib
import hmac
import secrets
import time

from troupe.config import Settings

PREFIX = "tt1"
_process_secret = secrets.token_hex(32)


def tool_token_secret(settings: Settings) -> str:
    if settings.api_key:
        return hmac.new(
            settings.api_key.encode(), b"troupe tool tokens", hashlib.sha256
        ).hexdigest()
    return _process_secret  # auth is off: tokens only have to be well-formed


def issue_tool_token(secret: str, agent_id: str, ttl_s: int = 3600) -> str:
    expires = int(time.time()) + ttl_s
    body = f"{agent_id}.{expires}"
    return f"{PREFIX}.{_b64(body.encode())}.{_sign(secret, body)}"


def verify_tool_token(secret: str, token: str) -> str | None:
    """The agent id the token speaks for, or None if it is forged, malformed or expired."""
    try:
        prefix, encoded, signature = token.split(".")
        if prefix != PREFIX:
            return None
        body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(signature, _sign(secret, body)):
        return None
    agent_id, _, expires = body.rpartition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return None
    return agent_id


def _sign(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
