"""What every route needs: the service context the app was created with, and shared schema bits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request

from integrations.service.context import Context
from integrations.service.group_commit import GroupCommit

T = TypeVar("T")


# The dependencies are coroutines on purpose: FastAPI runs a plain `def` dependency in its
# thread pool, a hand-off to a worker thread and back for reading an attribute — measured ~12 %
# of a webhook placement's server samples (py-spy, bench/ingest_http.py). The endpoints stay
# `def`: their service calls block on the store.
async def context(request: Request) -> Context:
    return request.app.state.context


class Runner:
    """Runs a route's service call: directly, or in a shared transaction (group commit)."""

    def __init__(self, ctx: Context, group: GroupCommit | None):
        self.ctx, self.group = ctx, group

    def __call__(self, command: Callable[[Context], T]) -> T:
        return self.group.run(command) if self.group is not None else command(self.ctx)


async def runner(request: Request) -> Runner:
    return request.app.state.runner


Ctx = Annotated[Context, Depends(context)]
Run = Annotated[Runner, Depends(runner)]
OrderId = Annotated[str, Path(pattern=r"^o-[0-9]{1,18}$", description="an order id like o-42",
                              examples=["o-1"])]
CaseId = Annotated[str, Path(pattern=r"^c-[0-9]{1,18}$", description="a case id like c-3",
                             examples=["c-1"])]
# row numbers have 1-18 digits like every id (statemachine/ids.py): they fit a BIGINT, so a larger
# number is refused with 422 instead of reaching PostgreSQL as an out-of-range parameter
EntryId = Annotated[int, Path(ge=1, le=10**18 - 1, description="a list entry number",
                              examples=[1])]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, stale or wrong signature"},
    404: {"description": "unknown order, parcel or case"},
    409: {"description": "not allowed in the current state (body lists allowed triggers)"},
    413: {"description": "body too large"},
    422: {"description": "malformed body; `problems` names each bad field"},
}
READ_ERRORS = {k: v for k, v in ERRORS.items() if k in (401, 404, 413, 422)}
