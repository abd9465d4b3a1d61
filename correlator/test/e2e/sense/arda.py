"""arda stand-in: a Flask app with OpenTelemetry's Flask instrumentation.

GET /get_topology?circuit_id=...[&fail=1] is a SERVER span carrying circuit_id; a flagged
request fails with ERROR status and an error log.
"""

from flask import Flask, jsonify, request
from opentelemetry import trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.trace import Status, StatusCode

from telemetry import serve, start_telemetry

log, shutdown_telemetry = start_telemetry("arda")
app = Flask("arda")
FlaskInstrumentor().instrument_app(app)


@app.get("/get_topology")
def get_topology():
    circuit_id = request.args["circuit_id"]
    span = trace.get_current_span()
    span.set_attribute("circuit_id", circuit_id)
    if request.args.get("fail") == "1":
        span.set_status(Status(StatusCode.ERROR, "no topology for circuit"))
        log.error("no topology for circuit circuit_id=%s", circuit_id, extra={"circuit_id": circuit_id})
        return jsonify({"error": "no topology"}), 500
    return jsonify({"circuit_id": circuit_id, "hops": 4})


serve(app, shutdown_telemetry)
