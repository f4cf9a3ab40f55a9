"""GET /healthz, /readyz and /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from glint.http.deps import RuntimeDep
from glint.http.errors import error_response

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """200 while the process runs."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency does not answer."}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """200 when every configured dependency answers, else 503 naming the ones that don't."""
    checks = await runtime.dependency_status()
    failing = sorted(name for name, state in checks.items() if state != "ok")
    if failing:
        response = error_response(
            503,
            "unavailable",
            f"Not ready: {', '.join(failing)} did not answer.",
            fields={name: checks[name] for name in failing},
            headers={"Retry-After": "5"},
        )
        return response
    return JSONResponse({"status": "ok", "checks": checks})


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text format."""
    return Response(runtime.metrics.render(), media_type=runtime.metrics.content_type)
