"""OpenTelemetry SDK set-up shared by the SENSE stand-ins, as a SENSE app would do it at start-up.

Everything comes from the SDK's standard environment variables, set by the test:
OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT (the collector), OTEL_BSP_SCHEDULE_DELAY and
OTEL_BLRP_SCHEDULE_DELAY. The exporters send OTLP/HTTP protobuf.
"""

import logging
import signal
import sys

from opentelemetry import trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from werkzeug.serving import make_server


def start_telemetry(service):
    """Installs global tracer and logger providers; returns the app's logger and a shutdown."""
    resource = Resource.create({"service.name": service, "deployment.environment.name": "e2e"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    set_logger_provider(logger_provider)

    log = logging.getLogger(service)
    log.setLevel(logging.INFO)
    log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))

    def shutdown():
        # Shutting a provider down exports what its batch processor still holds.
        tracer_provider.shutdown()
        logger_provider.shutdown()

    return log, shutdown


def serve(app, shutdown_telemetry):
    """Serves on a free loopback port, announced as one line on stdout, until SIGTERM."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # SystemExit out of serve_forever, so the finally below flushes before the process ends.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        shutdown_telemetry()
