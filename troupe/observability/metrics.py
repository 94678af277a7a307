"""The Prometheus metrics troupe serves at /metrics. Each `Metrics` has a registry of its
own (not prometheus-client's global one), so servers built in one process never collide.
Counters and histograms are fed as things happen; the gauges that describe a state
(mailbox depth, lock waiters, database pools) are set when a scrape reads them."""

from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

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


class _Children:
    """A labelled metric's children by label values: `labels()` checks its arguments and
    takes the metric's lock on every call; a known child is one dict lookup. A child is made
    (and its series shown) only when first used, as with `labels()`."""

    __slots__ = ("known", "metric")

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self.known: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self.known.get(values)
        if child is None:
            child = self.known[values] = self.metric.labels(*values)
        return child


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # no `_created` twin of every series: half the scrape
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "troupe_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "troupe_http_request_duration_seconds",
            "Time to answer an HTTP request (a stream: until it ends)",
            ["method", "route"],
            registry=r,
        )
        self.runs = Counter(
            "troupe_runs", "Runs ended, by stop reason", ["stop_reason"], registry=r
        )
        self.steps = Counter("troupe_steps", "Agent steps stored", registry=r)
        self.model_seconds = Histogram(
            "troupe_model_call_duration_seconds",
            "Model call latency",
            ["provider", "model", "outcome"],
            buckets=_SLOW_BUCKETS,
            registry=r,
        )
        self.model_tokens = Counter(
            "troupe_model_tokens",
            "Tokens of model calls",
            ["provider", "model", "type"],
            registry=r,
        )
        self.tool_calls = Counter(
            "troupe_tool_calls", "Tool calls executed, by outcome", ["tool", "status"], registry=r
        )
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
        self._known_children()

    def _known_children(self) -> None:
        """The labelled metrics fed on every request, run, model and tool call."""
        self._requests = _Children(self.requests)
        self._request_seconds = _Children(self.request_seconds)
        self._runs = _Children(self.runs)
        self._model_seconds = _Children(self.model_seconds)
        self._model_tokens = _Children(self.model_tokens)
        self._tool_calls = _Children(self.tool_calls)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests(method, route, str(status)).inc()
        self._request_seconds(method, route).observe(seconds)

    def run_ended(self, stop_reason: str, steps: int) -> None:
        self._runs(stop_reason).inc()
        if steps:
            self.steps.inc(steps)

    def model_call(
        self, provider: str, model: str, seconds: float, tokens: tuple[int, int], ok: bool
    ) -> None:
        self._model_seconds(provider, model, "ok" if ok else "error").observe(seconds)
        if tokens[0]:
            self._model_tokens(provider, model, "input").inc(tokens[0])
        if tokens[1]:
            self._model_tokens(provider, model, "output").inc(tokens[1])

    def tool_call(self, tool: str, status: str) -> None:
        self._tool_calls(tool, status).inc()

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
