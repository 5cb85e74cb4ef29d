"""The bulk path: many transitions of one kind in one unit of work — the pipeline's big batches.

Replays move thousands of orders and parcels per transaction. They go through exactly the
pipeline a single API call takes (integrations/service/pipeline.py): the same step tables,
guards, effects, timers, stock intents, hooks and cascades, written by the one writer in a
few statements per batch. This module only loads the aggregates by number and reports the
moves a guard refused instead of raising.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.service import orders, pipeline
from integrations.service.carriers import ready_catalogue
from integrations.service.collector import paused_for
from integrations.service.context import Context, Tx
from integrations.service.kinds import CASE, ORDER, SHIPMENT
from statemachine.errors import InvalidTransition


@dataclass(frozen=True, slots=True)
class Move:
    """One wanted transition: entity number, trigger, when, who, parameters."""

    id: int
    trigger: str
    at: datetime
    actor: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refused:
    move: Move
    error: str
    state: str  # the aggregate's state when the move was refused


@contextmanager
def batch(ctx: Context, moves: Sequence[Move]) -> Iterator[Tx]:
    """The transaction to fire the order `moves` in, opened once what their carrier selection
    reads is loaded (a `ship` with no parcels given selects carriers): the division table takes
    seconds, once per process, and loaded by the batch's first such `ship` it held the write
    lock (all of SQLite's) meanwhile, as the single call no longer does (orders.fire_order).
    A catalogue that cannot be used still fails that `ship` inside: InvalidInput naming the
    setting, nothing of the batch written."""
    if any(m.trigger == "ship" and not m.params.get("parcels") for m in moves):
        ready_catalogue(ctx)
    with ctx.tx() as tx:
        yield tx


def fire_orders(ctx: Context, tx: Tx, moves: Sequence[Move]) -> list[Refused]:
    """Fire order triggers in bulk, in the given order (an order may move several times).

    Refused moves are returned; the rest commit with the caller's transaction (open it with
    `batch`: a `ship` selecting carriers would otherwise load the division table inside it).

    The orders are locked (in id order) before they are loaded, as a single command locks
    its order: each is then decided on what was committed, its facts read and its waybills'
    turns taken under its lock (the lock order, docs/design.md). Loaded unlocked, a payment
    committed between the load and the write failed the batch's version check and undid the
    whole batch (`ConcurrentUpdate`: 39 of 50 batches expiring four orders as their buyers
    paid them, races/test_bulk_expiry_races.py); now that order alone is refused.
    """
    def locked(numbers: list[int]) -> dict[int, Any]:
        tx.store.lock_orders(numbers)
        return tx.store.orders(numbers)

    return _run(ctx, tx, ORDER, moves, locked)


def fire_shipments(ctx: Context, tx: Tx, moves: Sequence[Move]) -> list[Refused]:
    """Fire carrier scans in bulk; a parcel delivered last delivers its order (also in bulk)."""
    return _run(ctx, tx, SHIPMENT, moves, tx.store.shipments)


def fire_cases(ctx: Context, tx: Tx, moves: Sequence[Move]) -> list[Refused]:
    """Fire after-sales case triggers in bulk; a refund refunds its order (the same cascade)."""
    return _run(ctx, tx, CASE, moves,
                lambda numbers: {number: tx.store.get_case(number) for number in numbers})


def _run(ctx: Context, tx: Tx, kind: pipeline.Kind, moves: Sequence[Move],
         load: Callable[[list[int]], dict[int, Any]]) -> list[Refused]:
    with paused_for(len(moves)):  # everything loaded here lives until the batch ends
        loaded = load(list(dict.fromkeys(m.id for m in moves)))
        wanted = {id(m): pipeline.Move(loaded[m.id], m.trigger, m.at, m.actor, dict(m.params))
                  for m in moves}
        by_move = {id(w): m for m, w in zip(moves, wanted.values(), strict=True)}
        _, refused = pipeline.run(ctx, tx, kind, list(wanted.values()))
    return [Refused(by_move.get(id(r.move)) or _as_move(r.move),
                    str(_seen(ctx, kind, r.error, r.move.aggregate)),
                    str(r.move.aggregate.state)) for r in refused]


def _seen(ctx: Context, kind: pipeline.Kind, error: Exception, aggregate: Any) -> Exception:
    """A refusal as the single-call API words it."""
    if kind is ORDER and isinstance(error, InvalidTransition):
        return orders.as_a_caller_sees(ctx, error, aggregate)
    return error


def _as_move(move: pipeline.Move) -> Move:
    """A refused follow-up (an order its last parcel could not deliver), by number."""
    return Move(move.aggregate.id, move.trigger, move.at, move.actor, move.params)
