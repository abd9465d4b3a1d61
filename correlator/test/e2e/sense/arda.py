"""arda stand-in: a Flask app with OpenTelemetry's Flask instrumentation.

GET /get_topology?circuit_id=...[&fail=1] is a SERVER span carrying circuit_id; a flagged
request fails with ERROR status, its message, and an error log.
"""

from flask import Flask, g, jsonify, request
from opentelemetry import trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.trace import Status, StatusCode

from telemetry import serve, start_telemetry

log, shutdown_telemetry = start_telemetry("arda")
app = Flask("arda")


def keep_error_status(span, _status, _headers):
    """Sets the view's error status again once the instrumentation has set the HTTP one.

    The WSGI instrumentation sets the server span's status from the response code when the
    response starts, after the view returned: Status(ERROR) with no message, which replaces the
    one the view set. Its response hook runs right after that, on the same span.
    """
    error = g.get("span_error")
    if error is not None and span is not None and span.is_recording():
        span.set_status(error)


FlaskInstrumentor().instrument_app(app, response_hook=keep_error_status)


@app.get("/get_topology")
def get_topology():
    circuit_id = request.args["circuit_id"]
    span = trace.get_current_span()
    span.set_attribute("circuit_id", circuit_id)
    if request.args.get("fail") == "1":
        g.span_error = Status(StatusCode.ERROR, "no topology for circuit")
        log.error("no topology for circuit circuit_id=%s", circuit_id, extra={"circuit_id": circuit_id})
        return jsonify({"error": "no topology"}), 500
    return jsonify({"circuit_id": circuit_id, "hops": 4})


serve(app, shutdown_telemetry)
