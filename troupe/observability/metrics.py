"""The Prometheus metrics troupe serves at /metrics. Each `Metrics` has a registry of its
own (not prometheus-client's global one), so servers built in one process never collide.
Counters and histograms are fed as things happen; the gauges that describe a state
(mailbox depth, lock waiters, database pools) are set when a scrape reads them."""

from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from troupe.observability.event_counts import Counted, EventCounts, Observed

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Model calls and runs take from milliseconds (test and local models) to minutes.
_SLOW_BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True)
class PoolUse:
    """One connection pool at the moment of a scrape."""

    pool: str  # "write", "read", "locks"
    size: int
    checked_out: int
    overflow: int


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # no `_created` twin of every series: half the scrape
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._event_metrics()
        self.mailbox_depth = Gauge(
            "troupe_mailbox_depth", "Mailbox deliveries not delivered yet", registry=r
        )
        self.delivery_seconds = Histogram(
            "troupe_mailbox_delivery_latency_seconds",
            "From an async send to the message in its target's history",
            buckets=_SLOW_BUCKETS,
            registry=r,
        )
        self.lock_waiters = Gauge(
            "troupe_agents_waiting_on_lock",
            "Turns waiting for their agent's lock in this process",
            registry=r,
        )
        self.pool_size = Gauge(
            "troupe_db_pool_size", "Connections a database pool keeps", ["pool"], registry=r
        )
        self.pool_checked_out = Gauge(
            "troupe_db_pool_checked_out", "Connections in use", ["pool"], registry=r
        )
        self.pool_overflow = Gauge(
            "troupe_db_pool_overflow", "Connections open beyond the pool size", ["pool"], registry=r
        )

    def _event_metrics(self) -> None:
        """The metrics fed on every request, run, model and tool call (as plain numbers:
        see observability.event_counts)."""
        self.requests = Counted(
            "troupe_http_requests", "HTTP requests answered", ["method", "route", "status"]
        )
        self.request_seconds = Observed(
            "troupe_http_request_duration_seconds",
            "Time to answer an HTTP request (a stream: until it ends)",
            ["method", "route"],
        )
        self.runs = Counted("troupe_runs", "Runs ended, by stop reason", ["stop_reason"])
        self.steps = Counted("troupe_steps", "Agent steps stored")
        self.model_seconds = Observed(
            "troupe_model_call_duration_seconds",
            "Model call latency",
            ["provider", "model", "outcome"],
            buckets=_SLOW_BUCKETS,
        )
        self.model_tokens = Counted(
            "troupe_model_tokens", "Tokens of model calls", ["provider", "model", "type"]
        )
        self.tool_calls = Counted(
            "troupe_tool_calls", "Tool calls executed, by outcome", ["tool", "status"]
        )
        self.registry.register(
            EventCounts(
                [
                    self.requests,
                    self.request_seconds,
                    self.runs,
                    self.steps,
                    self.model_seconds,
                    self.model_tokens,
                    self.tool_calls,
                ]
            )
        )

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.inc((method, route, str(status)))
        self.request_seconds.observe((method, route), seconds)

    def run_ended(self, stop_reason: str, steps: int) -> None:
        self.runs.inc((stop_reason,))
        if steps:
            self.steps.inc((), steps)

    def model_call(
        self, provider: str, model: str, seconds: float, tokens: tuple[int, int], ok: bool
    ) -> None:
        self.model_seconds.observe((provider, model, "ok" if ok else "error"), seconds)
        if tokens[0]:
            self.model_tokens.inc((provider, model, "input"), tokens[0])
        if tokens[1]:
            self.model_tokens.inc((provider, model, "output"), tokens[1])

    def tool_call(self, tool: str, status: str) -> None:
        self.tool_calls.inc((tool, status))

    def delivered(self, seconds: float) -> None:
        self.delivery_seconds.observe(max(0.0, seconds))

    def exposition(self, *, mailbox_depth: int, lock_waiters: int, pools: list[PoolUse]) -> bytes:
        """The text a scrape reads, with the state gauges set to what they are now."""
        self.mailbox_depth.set(mailbox_depth)
        self.lock_waiters.set(lock_waiters)
        for use in pools:
            self.pool_size.labels(use.pool).set(use.size)
            self.pool_checked_out.labels(use.pool).set(use.checked_out)
            self.pool_overflow.labels(use.pool).set(use.overflow)
        return generate_latest(self.registry)
