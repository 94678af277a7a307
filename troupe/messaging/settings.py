"""Limits of cross-agent messaging. Every wait is bounded."""

from dataclasses import dataclass


@dataclass(frozen=True)
class MessagingSettings:
    reply_timeout_s: float = 120.0  # send-and-wait, and each broadcast target
    broadcast_concurrency: int = 256  # targets of one broadcast running at once
    max_hops: int = 8  # agents in one synchronous chain (A -> B -> C ...)
    lease_s: float = 30.0  # how long a claimed delivery stays claimed without renewal
    max_attempts: int = 10  # deliveries that cannot even start are retried this often
    poll_s: float = 1.0  # the dispatcher looks even when nothing woke it
    dispatch_concurrency: int = 64  # deliveries in flight per process
