"""Which A2A version a JSON-RPC request speaks, and the refusal when its method and its
`A2A-Version` header disagree. The endpoint serves A2A 1.0 (`SendMessage`, ...) and 0.3
(`message/send`, ...): a method's name says which version it belongs to, the header which
version the client asks for (none, or empty, asks for 0.3: A2A §3.6.2).

The SDK's dispatcher checks the two agree as well, but a 0.3 method under any other version
comes back as an internal error (-32603: its 0.3 adapter has no code for it), and either
refusal names only the one version that method expects. The specification's answer to a
version the interface does not serve is VersionNotSupportedError (-32009), and a client that
mixed the two up is best told what it can send instead. Imported with the SDK's dispatcher,
at the first A2A request (see `a2a_dispatch`)."""

import re

from a2a.compat.v0_3.jsonrpc_adapter import JSONRPC03Adapter
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.utils.constants import PROTOCOL_VERSION_0_3, PROTOCOL_VERSION_1_0
from a2a.utils.errors import VersionNotSupportedError

# Each served version, by major version: the SDK takes any version of the same major for
# the one it serves (a 1.1 client is served as 1.0); troupe lets through what it takes.
_BY_MAJOR = {1: PROTOCOL_VERSION_1_0, 0: PROTOCOL_VERSION_0_3}
# The method names of each version, as the SDK's dispatcher and its 0.3 adapter route them.
_METHODS = {
    PROTOCOL_VERSION_1_0: frozenset(JsonRpcDispatcher.METHOD_TO_MODEL),
    PROTOCOL_VERSION_0_3: frozenset(JSONRPC03Adapter.METHOD_TO_MODEL),
}
_VERSION = re.compile(r"(\d+)(?:\.\d+){0,2}")
SERVED = (
    "This agent serves A2A 1.0 (header A2A-Version: 1.0, methods such as SendMessage) "
    "and A2A 0.3 (header A2A-Version: 0.3 or none, methods such as message/send)."
)


def method_version(method: str) -> str | None:
    """The A2A version whose method `method` is; None for a name of neither (the SDK's
    dispatcher answers it as a method not found)."""
    return next((version for version, names in _METHODS.items() if method in names), None)


def served_version(header: str | None) -> str | None:
    """The served version a request's `A2A-Version` header asks for; None when it asks for
    none troupe serves (or is no version at all)."""
    asked = (header or "").strip() or PROTOCOL_VERSION_0_3
    match = _VERSION.fullmatch(asked)
    return _BY_MAJOR.get(int(match.group(1))) if match else None


def version_refusal(method: str, header: str | None) -> VersionNotSupportedError | None:
    """The error to answer a request of `method` with this `A2A-Version` header with, or
    None when troupe serves it (or the method is none of A2A's)."""
    spoken = method_version(method)
    if spoken is None:
        return None
    asked = served_version(header)
    if asked == spoken:
        return None
    if asked is None:
        why = f"A2A-Version {header!r} is not a version this agent serves."
    elif not (header or "").strip():
        why = f"{method!r} is an A2A {spoken} method; a request without A2A-Version asks for 0.3."
    else:
        why = (
            f"{method!r} is an A2A {spoken} method, but the request asks for A2A-Version {header}."
        )
    details = {
        "requestedVersion": (header or "").strip() or PROTOCOL_VERSION_0_3,
        "methodVersion": spoken,
        "supportedVersions": f"{PROTOCOL_VERSION_1_0}, {PROTOCOL_VERSION_0_3}",
    }
    return VersionNotSupportedError(message=f"{why} {SERVED}", data=details)
