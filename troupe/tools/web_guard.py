"""Connections fetch_webpage may open: each host name is resolved once, every address it
resolves to must be allowed (public, by default), and the connection goes to that checked
address. Checking a name and then letting the HTTP client resolve it again would let a name
that answers differently the second time (DNS rebinding) reach loopback or a private
network; here nothing resolves it again. The guard sits in the HTTP client's network
backend, so every connection is checked, those of redirects included. TLS still verifies
the certificate against the host name (the client starts TLS with the URL's host)."""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The fetch is not allowed or failed; the message is the tool's error."""


def is_public(ip: IpAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to, as the system resolver answers."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"cannot resolve {host}: {exc.strerror or exc}") from None
    return list(dict.fromkeys(str(address[0]) for *_, address in found))


async def refuse_private(target: httpx.URL, hint: str) -> None:
    """Every address the URL's host resolves to must be public, or `Refused` says so and then
    `hint`. A check before the connection, not at it: for callers whose HTTP client is not
    ours to give a `GuardedBackend` (a name that answers differently a moment later is not
    caught here)."""
    port = target.port or (443 if target.scheme == "https" else 80)
    for address in await resolve(target.host, port):
        ip = ipaddress.ip_address(address)
        if not is_public(ip):
            raise Refused(
                f"{target.host} is a loopback, private or otherwise non-public address ({ip}); "
                + hint
            )


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to checked addresses."""

    def __init__(
        self, allowed: Callable[[IpAddress], bool] = is_public, resolver: Resolve = resolve
    ) -> None:
        self.allowed = allowed
        self.resolver = resolver
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolver(host, port)
        for address in addresses:
            ip = ipaddress.ip_address(address)
            if not self.allowed(ip):
                raise Refused(
                    f"{host} is a loopback, private or otherwise non-public address ({ip}); "
                    "fetch_webpage only reaches the public web (TROUPE_FETCH_ALLOW_PRIVATE=1 "
                    "lets it reach private networks)"
                )
        if not addresses:
            raise Refused(f"cannot resolve {host}: no address")
        return await self.inner.connect_tcp(
            addresses[0], port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("fetch_webpage does not open local sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(backend: GuardedBackend) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections all go through `backend`. httpx takes no network
    backend of its own, so its connection pool is replaced by one built with it."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=backend
    )
    return transport
