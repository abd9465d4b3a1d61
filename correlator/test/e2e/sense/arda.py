"""arda stand-in: a FastAPI app served by uvicorn, with OpenTelemetry's FastAPI instrumentation.

GET /get_topology?circuit_id=...&topology_id=... is a SERVER span ("GET /get_topology") carrying
circuit_id; the lookup runs within it as an INTERNAL span named after the handler, get_topology,
the name the user's design gives arda's span. A topology arda does not know fails the request:
500, the server span's status ERROR with its message, and an error log.
"""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace import Status, StatusCode

from telemetry import serve_asgi, start_telemetry

log, shutdown_telemetry = start_telemetry("arda")
tracer = trace.get_tracer("arda")
app = FastAPI(title="arda")
TOPOLOGIES = {"001461": {"hops": 4}}


class KeepErrorStatus:
    """ASGI middleware that sets the handler's error status again after the instrumentation's.

    The ASGI instrumentation sets the server span's status from the response code as the response
    starts, after the handler returned: Status(ERROR) with no message, which replaces the one the
    handler set, and it has no hook on the server span after that. Its middleware is outside this
    one, so the response start has passed through its send when ours returns; the span ends only
    with the last body message, after the status is set again here.
    """

    def __init__(self, asgi_app):
        self.app = asgi_app

    async def __call__(self, scope, receive, send):
        server_span = trace.get_current_span()
        # request.state writes into this dict: holding it, a copied scope reads the same one.
        state = scope.setdefault("state", {})

        async def send_keeping_error(message):
            await send(message)
            error = state.get("span_error")
            if message["type"] == "http.response.start" and error is not None:
                server_span.set_status(error)

        await self.app(scope, receive, send_keeping_error)


app.add_middleware(KeepErrorStatus)
# The ASGI instrumentation's per-message "http send"/"http receive" spans are not what the test
# is about: without them arda's trace holds its server span and the lookup within it.
FastAPIInstrumentor.instrument_app(app, exclude_spans=["receive", "send"])


@app.get("/get_topology")
async def get_topology(request: Request, circuit_id: str, topology_id: str):
    trace.get_current_span().set_attribute("circuit_id", circuit_id)
    attributes = {"circuit_id": circuit_id, "topology_id": topology_id}
    with tracer.start_as_current_span("get_topology", attributes=attributes):
        topology = TOPOLOGIES.get(topology_id)
    if topology is None:
        request.state.span_error = Status(StatusCode.ERROR, "no topology for circuit")
        log.error("no topology for circuit circuit_id=%s", circuit_id, extra={"circuit_id": circuit_id})
        return JSONResponse({"error": "no topology"}, status_code=500)
    return {"circuit_id": circuit_id, "topology_id": topology_id, **topology}


serve_asgi(app, shutdown_telemetry)
