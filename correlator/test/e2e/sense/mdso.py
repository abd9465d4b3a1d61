"""MDSO stand-in: Blue Planet MDSO does not propagate W3C trace context, so neither does this.

The Flask app is not instrumented: the traceparent beorn sends is never read. Each resource
request runs a plan script as a new root trace (mdso.circuit_id, mdso.resource_id), which calls
arda with plain requests under a hand-made CLIENT span, sending no traceparent either.
Environment: ARDA_URL.
"""

import os
import uuid

import requests
from flask import Flask, jsonify, request
from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from telemetry import serve, start_telemetry

log, shutdown_telemetry = start_telemetry("mdso")
tracer = trace.get_tracer("scriptplan")
app = Flask("mdso")
ARDA_URL = os.environ["ARDA_URL"]


@app.post("/bpocore/market/api/v1/resources")
def create_resource():
    circuit_id = request.get_json()["label"]
    resource_id = str(uuid.uuid5(uuid.NAMESPACE_URL, circuit_id))
    attributes = {"mdso.circuit_id": circuit_id, "mdso.resource_id": resource_id}
    # An empty context: the plan script starts a trace of its own, as MDSO's do.
    with tracer.start_as_current_span(
        "mdso.product.CircuitDetailsCollector", context=context.Context(), attributes=attributes
    ) as plan:
        # Keys in the text only, as MDSO's plan-script logs carry them.
        log.info("plan script started resource_id=%s circuit_id=%s", resource_id, circuit_id)
        with tracer.start_as_current_span("GET arda /get_topology", kind=SpanKind.CLIENT) as call:
            answer = requests.get(
                f"{ARDA_URL}/get_topology",
                params={"circuit_id": circuit_id, "fail": request.args.get("fail", "")},
                timeout=10,
            )
            call.set_attribute("http.response.status_code", answer.status_code)
            if answer.status_code >= 500:
                call.set_status(Status(StatusCode.ERROR))
        state = "failed" if answer.status_code >= 500 else "active"
        if state == "failed":
            plan.set_status(Status(StatusCode.ERROR, "arda topology lookup failed"))
            log.error("plan script failed resource_id=%s circuit_id=%s", resource_id, circuit_id)
    return jsonify({"id": resource_id, "orchState": state}), 201


serve(app, shutdown_telemetry)
