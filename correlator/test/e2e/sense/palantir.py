"""palantir stand-in: a FastAPI app served by uvicorn, with OpenTelemetry's FastAPI instrumentation.

GET /api/v1/circuit/validate?circuit_id=... is a SERVER span carrying circuit_id. beorn calls it
with the requests instrumentation, which sends a traceparent: this span joins beorn's trace.
"""

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from telemetry import serve_asgi, start_telemetry

log, shutdown_telemetry = start_telemetry("palantir")
app = FastAPI(title="palantir")
# The ASGI instrumentation's per-message "http send"/"http receive" spans are not what the test
# is about: without them the trace holds one span per service call, as the Flask apps' do.
FastAPIInstrumentor.instrument_app(app, exclude_spans=["receive", "send"])


@app.get("/api/v1/circuit/validate")
async def validate(circuit_id: str):
    trace.get_current_span().set_attribute("circuit_id", circuit_id)
    log.info("validated circuit circuit_id=%s", circuit_id, extra={"circuit_id": circuit_id})
    return {"circuit_id": circuit_id, "valid": True, "service_type": "FIA"}


serve_asgi(app, shutdown_telemetry)
