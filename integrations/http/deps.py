"""What every route needs: the service context the app was created with, and shared schema bits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from integrations.service.context import Context


def context(request: Request) -> Context:
    return request.app.state.context


Ctx = Annotated[Context, Depends(context)]
OrderId = Annotated[str, Path(pattern=r"^o-[0-9]{1,18}$", description="an order id like o-42",
                              examples=["o-1"])]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, stale or wrong signature"},
    404: {"description": "unknown order, parcel or case"},
    409: {"description": "not allowed in the current state (body lists allowed triggers)"},
    413: {"description": "body too large"},
    422: {"description": "malformed body; `problems` names each bad field"},
}
READ_ERRORS = {k: v for k, v in ERRORS.items() if k in (401, 404, 413, 422)}
