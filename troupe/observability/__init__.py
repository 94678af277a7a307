"""What troupe shows of itself to the operator's tools: OpenTelemetry spans after the GenAI
semantic conventions (exported over OTLP when the standard `OTEL_*` variables ask for it)
and Prometheus metrics. The layers above call it through `Telemetry` (telemetry.py) and
know nothing of the OpenTelemetry or Prometheus APIs."""
