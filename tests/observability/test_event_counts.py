"""The request, run, model and tool metrics are kept as plain numbers
(troupe.observability.event_counts) and written at the scrape: the text is what
prometheus-client's own Counter and Histogram write for the same events."""

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from troupe.observability.event_counts import Counted, EventCounts, Observed
from troupe.observability.metrics import Metrics

SLOW = (0.005, 0.025, 0.1, 1.0, 30.0)
# Amounts on, between, under and over the bounds.
AMOUNTS = [0.0, 0.005, 0.006, 0.1, 0.0999, 2.0, 30.0, 31.0, 1e9, 0.3]


def test_the_scrape_reads_what_prometheus_clients_own_metrics_write() -> None:
    Metrics()  # turns prometheus-client's `_created` series off, as the server does
    ours = Counted("t_calls", "Calls", ["tool", "status"])
    plain = Counted("t_steps", "Steps")
    spread = Observed("t_seconds", "Latency", ["model"], buckets=SLOW)
    default = Observed("t_request_seconds", "Requests", ["route"])
    reference = CollectorRegistry(auto_describe=True)
    calls = Counter("t_calls", "Calls", ["tool", "status"], registry=reference)
    steps = Counter("t_steps", "Steps", registry=reference)
    seconds = Histogram("t_seconds", "Latency", ["model"], buckets=SLOW, registry=reference)
    requests = Histogram("t_request_seconds", "Requests", ["route"], registry=reference)
    registry = CollectorRegistry(auto_describe=True)
    registry.register(EventCounts([ours, plain, spread, default]))
    # Before any event: the labelled ones show no series, the plain counter shows 0.
    assert generate_latest(registry) == generate_latest(reference)
    for i, amount in enumerate(AMOUNTS):
        tool, status = ("a", "ok") if i % 3 else ("b", "error")
        ours.inc((tool, status), i + 0.5)
        calls.labels(tool, status).inc(i + 0.5)
        plain.inc((), 2)
        steps.inc(2)
        model = "m1" if i % 2 else "m2"
        spread.observe((model,), amount)
        seconds.labels(model).observe(amount)
        default.observe(("/r",), amount)
        requests.labels("/r").observe(amount)
    assert generate_latest(registry) == generate_latest(reference)
