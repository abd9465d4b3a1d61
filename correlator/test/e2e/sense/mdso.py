"""MDSO stand-in: Blue Planet MDSO does not propagate W3C trace context, so neither does this.

The Flask app is not instrumented: the traceparent beorn sends is never read. A resource request
is answered at once (201, orchState "requested", as MDSO's POST /resources does); a moment later
a background thread runs the plan script as a new root trace (mdso.circuit_id, mdso.resource_id),
which asks arda for the order's topology (properties.topology_id) with plain requests under a
hand-made CLIENT span, sending no traceparent either. The outcome is read as MDSO reports it: GET /resources/{id}, orchState "active", or
"failed" with the error in reason.
Environment: ARDA_URL.
"""

import os
import threading
import uuid
from datetime import datetime, timezone

import requests
from flask import Flask, abort, jsonify, request
from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from telemetry import serve, start_telemetry

log, shutdown_telemetry = start_telemetry("mdso")
tracer = trace.get_tracer("scriptplan")
app = Flask("mdso")
ARDA_URL = os.environ["ARDA_URL"]
# Long enough that the plan script starts after beorn's request has been answered.
PLAN_DELAY_SECONDS = 0.3
resources = {}
resources_lock = threading.Lock()


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def update(resource_id, **fields):
    with resources_lock:
        resources[resource_id].update(fields, updatedAt=now_iso())


@app.post("/bpocore/market/api/v1/resources")
def create_resource():
    order = request.get_json()
    circuit_id = order["label"]
    resource_id = str(uuid.uuid4())
    resource = {
        "id": resource_id,
        "label": circuit_id,
        "resourceTypeId": "charter.resourceTypes.CircuitDetails",
        "productId": order["productId"],
        "properties": order["properties"],
        "desiredOrchState": "active",
        "orchState": "requested",
        "reason": "",
        "createdAt": now_iso(),
        "updatedAt": now_iso(),
    }
    with resources_lock:
        resources[resource_id] = resource
    topology_id = order["properties"]["topology_id"]
    plan = threading.Timer(PLAN_DELAY_SECONDS, run_plan, (resource_id, circuit_id, topology_id))
    plan.daemon = True
    plan.start()
    return jsonify(resource), 201


@app.get("/bpocore/market/api/v1/resources/<resource_id>")
def get_resource(resource_id):
    with resources_lock:
        resource = resources.get(resource_id)
        if resource is None:
            abort(404)
        return jsonify(resource)


def run_plan(resource_id, circuit_id, topology_id):
    update(resource_id, orchState="activating")
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
                params={"circuit_id": circuit_id, "topology_id": topology_id},
                timeout=10,
            )
            call.set_attribute("http.response.status_code", answer.status_code)
            if answer.status_code >= 500:
                call.set_status(Status(StatusCode.ERROR))
        if answer.status_code < 500:
            update(resource_id, orchState="active")
            return
        plan.set_status(Status(StatusCode.ERROR, "arda topology lookup failed"))
        log.error("plan script failed resource_id=%s circuit_id=%s", resource_id, circuit_id)
    # The 2023 form of the reason MDSO wraps a failed plan's stderr in (mdso-api.md §3.1).
    with resources_lock:
        log_file = f"plan-script-{resource_id}-activate-{resources[resource_id]['createdAt']}"
    update(
        resource_id,
        orchState="failed",
        reason="Failed task:(1) activate: Failed remote script 'activate'(exit code: 1): Error in"
        " scripts.circuitDetailsCollector.CircuitDetailsCollector, arda topology lookup failed."
        f"  Please check file: {log_file}",
    )


serve(app, shutdown_telemetry)
