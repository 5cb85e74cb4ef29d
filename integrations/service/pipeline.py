"""The one transition pipeline: fire the steps, hand the batch to the writer, run what follows.

Every state change runs the same way, whether it is one API call, a webhook, a sweep batch or a
replay batch:

    moves ──facts the guards need──▶ Lifecycle.fire ──Fired + intents──▶ Writer.apply
          ──▶ post-transition hooks (credit, review tasks) ──▶ follow-ups (another batch)

A `Kind` says how the application drives one lifecycle: which facts its guards need that a
caller does not supply (open parcels, double-check reasons), what its events carry, and what
follows a written batch (a parcel delivered last delivers its order). The single-call API is a
batch of one; the sweep and the replay bulk path are batches of many — the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.db.writer import Change
from integrations.service.context import Context, Tx
from integrations.service.hooks import after_transitions
from statemachine.errors import GuardRejected, InvalidTransition, OrderPilotError
from statemachine.lifecycle import Fired, Lifecycle


@dataclass(frozen=True, slots=True)
class Move:
    """One wanted transition of a loaded aggregate."""

    aggregate: Any
    trigger: str
    at: datetime
    actor: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refused:
    move: Move
    error: OrderPilotError


Facts = Callable[[Move], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Kind:
    """How the application drives one lifecycle through the pipeline."""

    lifecycle: Lifecycle
    order_of: Callable[[Any], int]
    event_data: Callable[[Tx, Any], dict[str, Any]]
    # facts for a batch: called once with all moves (to batch its reads), then per move
    facts: Callable[[Context, Tx, Sequence[Move]], Facts] = lambda ctx, tx, moves: no_facts
    follow_up: Callable[[Context, Tx, list[Change]], list[Refused]] = \
        lambda ctx, tx, changes: []
    spawns: Kind | None = None  # the kind of the side aggregates its steps create
    spawn_key: str = ""         # where their public ids go in the step's history payload
    # what a move decides on besides its own aggregate that an earlier move of the batch may
    # change (a case's refund: its order's money and units left): moves sharing it are cut
    # into rounds like two moves of one aggregate (see `rounds`); None: nothing shared
    shares: Callable[[Move], Hashable | None] = lambda move: None


def fire(ctx: Context, tx: Tx, kind: Kind, aggregate: Any, trigger: str, actor: str,
         params: dict[str, Any], now: datetime) -> Fired:
    """One transition (a batch of one); a refused guard or trigger raises, writing nothing."""
    fired, _ = run(ctx, tx, kind, [Move(aggregate, trigger, now, actor, params)], refuse=False)
    return fired[0]


def run(ctx: Context, tx: Tx, kind: Kind, moves: Sequence[Move], *, refuse: bool = True,
        created: Sequence[Change] = ()) -> tuple[list[Fired], list[Refused]]:
    """Fire every move in order, write them in one batch, then the follow-ups (a batch that
    moves an aggregate again is cut there into rounds: see `rounds`).

    With `refuse`, moves whose trigger or guard is refused are returned instead of raised
    (the bulk paths); the others commit with the caller's unit of work. `created`: creation
    records of aggregates the moves act on, written first in the same batch.
    """
    fired_moves: list[Fired] = []
    refused: list[Refused] = []
    for part in rounds(moves, kind.shares):
        fired, failed = _run_round(ctx, tx, kind, part, refuse, created)
        fired_moves += fired
        refused += failed
        created = ()
    return fired_moves, refused


def rounds(moves: Sequence[Move], shares: Callable[[Move], Hashable | None] = lambda m: None
           ) -> list[Sequence[Move]]:
    """Cut the batch, in order, before each move of an aggregate already moved in its round,
    or sharing with an earlier move of its round what both decide on (`Kind.shares`).

    A step's facts are read from the store (the stock `ship` labels, the parcels `deliver`
    awaits, what a case's order has left to refund) and the writer writes a round at its end:
    a second move of the same aggregate, or on the same shared facts, must see what the first
    one wrote, as it would on the single path.
    """
    if len(moves) < 2:  # a batch of one (the single-call API) is its own round
        return [moves]
    parts: list[Sequence[Move]] = []
    start, seen = 0, set()
    for i, move in enumerate(moves):
        keys = {("aggregate", id(move.aggregate)), ("shared", shares(move))} - \
            {("shared", None)}
        if keys & seen:
            parts.append(moves[start:i])
            start, seen = i, set()
        seen |= keys
    return parts + [moves[start:]]


def _run_round(ctx: Context, tx: Tx, kind: Kind, moves: Sequence[Move], refuse: bool,
               created: Sequence[Change]) -> tuple[list[Fired], list[Refused]]:
    facts = kind.facts(ctx, tx, moves)
    changes: list[Change] = list(created)
    fired_moves: list[Fired] = []
    refused: list[Refused] = []
    for move in moves:
        aggregate = move.aggregate
        try:
            fired = kind.lifecycle.fire(aggregate, move.trigger, at=move.at, actor=move.actor,
                                        timeouts=ctx.timeouts, **facts(move))
        except (InvalidTransition, GuardRejected) as error:
            if not refuse:
                raise
            refused.append(Refused(move, error))
            continue
        if fired.spawned:
            changes += _spawned(ctx, tx, kind, fired)
        changes.append(Change(aggregate, fired, kind.order_of(aggregate),
                              kind.event_data(tx, aggregate)))
        fired_moves.append(fired)
    record(ctx, tx, changes)
    return fired_moves, refused + kind.follow_up(ctx, tx, changes)


def record(ctx: Context, tx: Tx, changes: list[Change]) -> None:
    """Write a batch of changes and run the post-transition hooks on it."""
    tx.writer.apply(changes)
    after_transitions(ctx, tx, [(change.aggregate, change.fired) for change in changes])


def create(ctx: Context, tx: Tx, kind: Kind, aggregate: Any, actor: str,
           payload: dict[str, Any], now: datetime) -> Change:
    """Insert a new aggregate and return its creation change (to be written with its batch)."""
    tx.writer.insert(aggregate, kind.lifecycle.entity)
    fired = kind.lifecycle.create(aggregate, at=now, actor=actor, payload=payload,
                                  timeouts=ctx.timeouts)
    return Change(aggregate, fired, kind.order_of(aggregate), kind.event_data(tx, aggregate))


def _spawned(ctx: Context, tx: Tx, kind: Kind, fired: Fired) -> list[Change]:
    """Side aggregates a step created (parcels on `ship`): inserted, each with its creation
    record (the payload the step gave it); their public ids go into the step's payload."""
    assert kind.spawns is not None, f"{kind.lifecycle.entity} steps spawn nothing"
    changes = [create(ctx, tx, kind.spawns, child, fired.actor, child.step_payload, fired.at)
               for child in fired.spawned]
    fired.payload[kind.spawn_key] = [change.fired.entity_id for change in changes]
    return changes


def no_facts(move: Move) -> dict[str, Any]:
    return move.params

