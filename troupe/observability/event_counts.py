"""Counters and histograms fed on every request, run, model and tool call, kept as plain
numbers and handed to prometheus-client as metric families when a scrape reads them.

prometheus-client's own metrics take a lock and check their state on every `inc` and
`observe`, and a labelled one looks its child up through `labels()`: several microseconds
an event, several events a message. Here an event is a dict lookup and an add. They are fed
from the event loop's thread only (requests, turns, model and tool calls), so no lock is
taken. The text a scrape reads is what prometheus-client's Counter and Histogram write
(tests/observability/test_event_counts.py compares them)."""

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import Histogram
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import INF, floatToGoString

Labels = tuple[str, ...]


class Counted:
    """A counter by label values (none: one series, shown from the start at 0)."""

    __slots__ = ("documentation", "label_names", "name", "values")

    def __init__(self, name: str, documentation: str, label_names: Sequence[str] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.label_names = list(label_names)
        self.values: dict[Labels, float] = {} if label_names else {(): 0.0}

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.label_names)
        for labels, value in list(self.values.items()):
            family.add_metric(labels, value)
        return family


class Observed:
    """A histogram by label values: per series, the count in each bucket and the sum."""

    __slots__ = ("bounds", "documentation", "label_names", "les", "name", "values")

    def __init__(
        self,
        name: str,
        documentation: str,
        label_names: Sequence[str] = (),
        buckets: Iterable[float] = Histogram.DEFAULT_BUCKETS,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.label_names = list(label_names)
        self.bounds = [float(b) for b in buckets]
        if self.bounds[-1] != INF:
            self.bounds.append(INF)
        self.les = [floatToGoString(b) for b in self.bounds]
        # Per series: the count of each bucket (not cumulative), then the sum.
        self.values: dict[Labels, list[float]] = {}

    def observe(self, labels: Labels, amount: float) -> None:
        counts = self.values.get(labels)
        if counts is None:
            counts = self.values[labels] = [0.0] * (len(self.bounds) + 1)
        counts[bisect_left(self.bounds, amount)] += 1  # the first bucket with le >= amount
        counts[-1] += amount

    def family(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.label_names)
        for labels, counts in list(self.values.items()):
            total, buckets = 0.0, []
            for le, count in zip(self.les, counts, strict=False):
                total += count
                buckets.append((le, total))
            family.add_metric(labels, buckets, counts[-1])
        return family


class EventCounts(Collector):
    """The metrics above, as a scrape reads them (register it in a registry)."""

    def __init__(self, metrics: Sequence[Counted | Observed]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        for metric in self.metrics:
            yield metric.family()
