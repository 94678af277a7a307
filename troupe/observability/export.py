"""The OpenTelemetry SDK's tracer provider, set up from the standard variables: OTLP over
HTTP/protobuf (the default) or gRPC, or the console. The exporters read their endpoint,
headers, timeout and TLS settings from `OTEL_EXPORTER_OTLP_*` themselves."""

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from troupe import __version__


def tracer_provider(*, exporter: str, protocol: str, service_name: str) -> TracerProvider:
    """A provider that batches spans (`OTEL_BSP_*` tune it) to the exporter named."""
    # Resource.create also reads OTEL_RESOURCE_ATTRIBUTES; the name given here wins over it.
    resource = Resource.create({SERVICE_NAME: service_name, "service.version": __version__})
    provider = TracerProvider(resource=_HashedOnce(resource))
    provider.add_span_processor(BatchSpanProcessor(_exporter(exporter, protocol)))
    return provider


class _HashedOnce(Resource):
    """The resource, hashed once: the OTLP encoder groups a batch's spans by resource,
    hashing it for every span, and a Resource hashes by dumping its attributes as JSON
    (about 12 us, a quarter of encoding a span). Its attributes cannot change."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource.attributes, resource.schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


def _exporter(exporter: str, protocol: str) -> SpanExporter:
    if exporter == "console":
        return ConsoleSpanExporter()
    if protocol == "grpc":  # imported only when asked for: grpc is a heavy import
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpSpanExporter,
    )

    return HttpSpanExporter()
