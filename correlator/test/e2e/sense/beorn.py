"""beorn stand-in: a Flask app with OpenTelemetry's Flask and requests instrumentation.

POST /activate?circuit_id=...[&fail=1] runs a SERVER span carrying circuit_id and, within it,
two instrumented CLIENT calls: to palantir, to validate the circuit (palantir reads the
traceparent it is sent, so its span joins this trace), then to MDSO to create the resource
(MDSO ignores the traceparent, accepts the request and runs its plan script later).
Environment: PALANTIR_URL, MDSO_URL.
"""

import os

import requests
from flask import Flask, jsonify, request
from opentelemetry import trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor

from telemetry import serve, start_telemetry

log, shutdown_telemetry = start_telemetry("beorn")
app = Flask("beorn")
FlaskInstrumentor().instrument_app(app)
RequestsInstrumentor().instrument()
PALANTIR_URL = os.environ["PALANTIR_URL"]
MDSO_URL = os.environ["MDSO_URL"]


@app.post("/activate")
def activate():
    circuit_id = request.args["circuit_id"]
    trace.get_current_span().set_attribute("circuit_id", circuit_id)
    log.info("activating circuit circuit_id=%s", circuit_id, extra={"circuit_id": circuit_id})
    validation = requests.get(
        f"{PALANTIR_URL}/api/v1/circuit/validate",
        params={"circuit_id": circuit_id},
        headers={"X-Circuit-Id": circuit_id},
        timeout=10,
    )
    validation.raise_for_status()
    answer = requests.post(
        f"{MDSO_URL}/bpocore/market/api/v1/resources",
        params={"fail": request.args.get("fail", "")},
        json={"label": circuit_id, "productId": "CircuitDetailsCollector"},
        headers={"X-Circuit-Id": circuit_id},
        timeout=10,
    )
    return jsonify({"circuit_id": circuit_id, "mdso": answer.json()}), answer.status_code


serve(app, shutdown_telemetry)
