"""beorn stand-in: a Flask app with OpenTelemetry's Flask and requests instrumentation.

POST /beorn/api/v1/service/create, with header X-Circuit-Id and a JSON body
{"circuit_id": ..., "service_type": "FIA", "topology_id": "001461"}, the request the user's design
creates a network service with, runs a SERVER span and, within it, two instrumented CLIENT calls:
to palantir, to validate the circuit (palantir reads the traceparent it is sent, so its span joins
this trace), then to MDSO to create the resource (MDSO ignores the traceparent, accepts the request
and runs its plan script later). The handler sets no key attribute on its spans: the circuit is on
the server span only as the Flask instrumentation captures the X-Circuit-Id header when
OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST names it.
Environment: PALANTIR_URL, MDSO_URL.
"""

import os

import requests
from flask import Flask, jsonify, request
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor

from telemetry import serve, start_telemetry

log, shutdown_telemetry = start_telemetry("beorn")
app = Flask("beorn")
FlaskInstrumentor().instrument_app(app)
RequestsInstrumentor().instrument()
PALANTIR_URL = os.environ["PALANTIR_URL"]
MDSO_URL = os.environ["MDSO_URL"]


@app.post("/beorn/api/v1/service/create")
def create_service():
    order = request.get_json()
    circuit_id = order["circuit_id"]
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
        json={
            "label": circuit_id,
            "productId": "CircuitDetailsCollector",
            "properties": {
                "circuit_id": circuit_id,
                "service_type": order["service_type"],
                "topology_id": order["topology_id"],
            },
        },
        headers={"X-Circuit-Id": circuit_id},
        timeout=10,
    )
    return jsonify({"circuit_id": circuit_id, "mdso": answer.json()}), answer.status_code


serve(app, shutdown_telemetry)
