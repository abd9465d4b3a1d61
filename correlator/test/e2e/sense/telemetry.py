"""OpenTelemetry SDK set-up shared by the SENSE stand-ins, as a SENSE app would do it at start-up.

Everything comes from the SDK's standard environment variables, set by the test:
OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT (the collector), OTEL_BSP_SCHEDULE_DELAY and
OTEL_BLRP_SCHEDULE_DELAY. The exporters send OTLP/HTTP protobuf.
"""

import logging
import signal
import socket
import sys

import uvicorn

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
    """Serves a WSGI app on a free loopback port, announced as one line on stdout, until SIGTERM."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # SystemExit out of serve_forever, so the finally below flushes before the process ends.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        shutdown_telemetry()


def serve_asgi(app, shutdown_telemetry):
    """Serves an ASGI app with uvicorn, as serve does a WSGI one."""
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    # uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler it found:
    # this one, so the finally below flushes before the process ends, with status 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Listening already: a request sent before uvicorn accepts waits in the backlog.
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        shutdown_telemetry()
