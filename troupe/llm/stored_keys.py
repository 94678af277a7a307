"""Provider keys stored through the API (0.1.x `POST /v1/providers`), as this process knows
them: the service layer loads them from the store at start-up, after each change, and at
each maintenance round (so another process's change arrives within seconds). A stored key
is used for the handles of its provider, before the environment's key; the base URL stays
the server's own (a stored key never decides where requests go)."""

import threading
from collections.abc import Mapping

_lock = threading.Lock()
_keys: dict[str, str] = {}
_version = 0


def replace(keys: Mapping[str, str]) -> None:
    """Now these are the stored keys (provider prefix -> key)."""
    global _version
    with _lock:
        if dict(keys) != _keys:
            _keys.clear()
            _keys.update(keys)
            _version += 1


def key_for(prefix: str) -> str | None:
    return _keys.get(prefix)


def version() -> int:
    """Changes whenever the keys do: models built with older keys are stale."""
    return _version
