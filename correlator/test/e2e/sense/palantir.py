"""palantir stand-in: a Flask app with OpenTelemetry's Flask instrumentation.

GET /api/v1/circuit/validate?circuit_id=... is a SERVER span carrying circuit_id. beorn calls it
with the requests instrumentation, which sends a traceparent: this span joins beorn's trace.
"""

from flask import Flask, jsonify, request
from opentelemetry import trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor

from telemetry import serve, start_telemetry

log, shutdown_telemetry = start_telemetry("palantir")
app = Flask("palantir")
FlaskInstrumentor().instrument_app(app)


@app.get("/api/v1/circuit/validate")
def validate():
    circuit_id = request.args["circuit_id"]
    trace.get_current_span().set_attribute("circuit_id", circuit_id)
    log.info("validated circuit circuit_id=%s", circuit_id, extra={"circuit_id": circuit_id})
    return jsonify({"circuit_id": circuit_id, "valid": True, "service_type": "FIA"})


serve(app, shutdown_telemetry)
