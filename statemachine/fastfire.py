"""`Lifecycle.fire` for bulk work (the sweep's hold expiry, replays): the same step table,
guards and effects, without `transitions`.

Measured here, `Lifecycle.fire` costs ~18 µs per call, most of it in the `transitions` event
machinery (event objects, state lookups, logging); this walk costs ~5.5 µs, which matters when
a batch moves thousands of aggregates. This module walks the lifecycle's `Step` table
directly: same sources, guards in the same order, same effect, same `Fired` record, same
errors. A table-driven test checks it
against `Lifecycle.fire` for every step of the order and parcel lifecycles.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from statemachine.errors import GuardRejected, InvalidTransition
from statemachine.lifecycle import Fired, Lifecycle, Step

_TABLES: dict[int, dict[tuple[str, StrEnum], tuple[Step, ...]]] = {}


def fire(lifecycle: Lifecycle, model: Any, trigger: str, *, at: datetime, actor: str,
         **ctx: Any) -> Fired:
    """Run one trigger on `model`; InvalidTransition / GuardRejected leave it unchanged."""
    before = lifecycle.states(model.state)
    steps = _table(lifecycle).get((trigger, before))
    if not steps:
        raise InvalidTransition(lifecycle.entity, model.public_id, before.value, trigger,
                                lifecycle.allowed(before))
    model.refusal, model.step_payload = None, {}
    kwargs = {"at": at, "actor": actor, **ctx}
    for step in steps:
        refusal = next((r for g in step.guards if (r := g(model, kwargs)) is not None), None)
        if refusal is not None:
            model.refusal = refusal
            continue
        if step.dest is not None:
            model.state = step.dest
        model.step_payload = (step.effect(model, kwargs) or {}) if step.effect else {}
        after = lifecycle.states(model.state)
        return Fired(lifecycle.entity, model.public_id, trigger, before.value, after.value,
                     step.event or after.value, at, actor, dict(model.step_payload))
    raise GuardRejected(lifecycle.entity, model.public_id, before.value, trigger,
                        model.refusal or "a guard refused")


def _table(lifecycle: Lifecycle) -> dict[tuple[str, StrEnum], tuple[Step, ...]]:
    table = _TABLES.get(id(lifecycle))
    if table is None:
        grouped: dict[tuple[str, StrEnum], list[Step]] = {}
        for step in lifecycle.steps:
            for source in step.sources:
                grouped.setdefault((step.trigger, source), []).append(step)
        table = _TABLES[id(lifecycle)] = {k: tuple(v) for k, v in grouped.items()}
    return table
