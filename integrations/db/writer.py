"""The one writer of the lifecycle tables: aggregates, history, outbox, deadlines and stock.

Every state change — one API call, a webhook, a sweep batch, a replay batch — ends here as a
batch of `Change`s (the aggregate after the step, the `Fired` value with its declared intents,
and the event data snapshot taken right after the step). `apply` writes the batch in a few
multi-row statements, in one global lock order so that two writers never wait on each other
in a circle:

    1. aggregates: orders, then parcels, cases, claims, disputes, each by id — version-checked
       UPDATEs; then the waybill counters past the new parcels' numbers, by prefix
       (carrier_store.pass_waybills: a typed SF-0000050 is never handed out again)
    2. inventory rows, by (sku, warehouse)           — the stock intents
    3. deadlines, by (entity, entity id, kind)        — the timers the steps armed / cleared
    4. history and outbox rows                        — appended, one per change

Aggregates come first because a sweep must lock an order before it can decide anything about
its stock (it skips orders another transaction holds); a payment that took inventory first and
then waited for the order would close a circle with it.

An aggregate moved n times in a batch is written once, from version v to v + n (the pipeline
cuts its batches so that each aggregate moves once per `apply`, see pipeline.rounds); if any
row's version moved meanwhile the whole batch raises `ConcurrentUpdate` (the unit of work rolls
back). Every write here but the hold (its count decides) is deferred (sql.py `later`): on
PostgreSQL the lot travels with the next statement that needs an answer or with the COMMIT, so
the version check raises there — still before anything is committed.
No other module writes these tables; the single-call API is a batch of one.

A batch of one (nearly every API call: a step, or its cascade's round) goes through the same
four calls in `apply` (the only place they are listed); `_save` skips the grouping for it,
which has nothing to sort or net (tests/integration/test_writer_batches.py checks both sizes
take the same parts and give the same rows).
Each change's step details are serialised once: the history row's payload text is spliced
into its outbox event as `details`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from integrations.db import carrier_store
from integrations.db.case_stock import CASE_INTENTS, CaseStock
from integrations.db.rows import BY_ENTITY, LINES, RowMap, insert_sql, upsert_sql, written
from integrations.db.schema import DeadlineRow, OutboxRow, TransitionRow
from integrations.db.sql import Sql, Times, iso_utc, to_json
from integrations.db.stock import StockStore, in_list
from statemachine import ids
from statemachine.errors import ConcurrentUpdate
from statemachine.lifecycle import Fired, StockIntent
from statemachine.order_aggregate import Order
from statemachine.policies import DeadlineKind

ENTITY_ORDER = ("order", "shipment", "case", "claim", "dispute")  # the lock order
IN_LIST_CHUNK = 500

HISTORY, OUTBOX, DEADLINES = (TransitionRow.__table__, OutboxRow.__table__,
                              DeadlineRow.__table__)
DEADLINE_KEY = ("kind", "entity", "entity_id")  # its unique constraint
HISTORY_INSERT = insert_sql(HISTORY, [c.name for c in HISTORY.columns if c.name != "id"])
OUTBOX_INSERT = insert_sql(OUTBOX, [  # published_at, fanned_out_at: the relay's, after commit
    c.name for c in OUTBOX.columns if c.name not in ("id", "published_at", "fanned_out_at")])
DEADLINE_UPSERT = upsert_sql(DEADLINES, written(DEADLINES), DEADLINE_KEY,
                             update=written(DEADLINES, but=("id", *DEADLINE_KEY)))


@dataclass(slots=True)
class Change:
    """One fired step, ready to be written: the aggregate after it, and what it implied."""

    aggregate: Any
    fired: Fired
    order_id: int
    data: dict[str, Any]  # what the event carries, as of right after this step


class StockTaken(Exception):  # noqa: N818 - a signal to retry, not an error for callers
    """A concurrent order took the stock between the availability snapshot and the hold."""


class Writer:
    """Applies batches of changes on the unit of work's connection."""

    def __init__(self, sql: Sql, stock: StockStore):
        self.sql, self.stock = sql, stock
        self.cases = CaseStock(sql)
        # (entity, id, kind) of every timer armed or cleared in this unit of work: a sweep
        # drops a due row that an earlier step of its batch moved on (it would be gone, or
        # due later, had that step been written first)
        self.timers_touched: set[tuple[str, int, str]] = set()

    def insert(self, aggregate: Any, entity: str) -> int:
        """A new aggregate's row (an order with its lines); sets and returns its id."""
        rows = BY_ENTITY[entity]
        number = self.sql.insert_id(rows.insert, rows.values(aggregate, self.sql.time))
        aggregate.id = number
        if isinstance(aggregate, Order) and aggregate.lines:
            self.sql.later(LINES.insert, [{**LINES.values(ln, self.sql.time),
                                           "order_id": number} for ln in aggregate.lines])
        return number

    def apply(self, changes: Sequence[Change]) -> None:
        """Write a batch: aggregates, stock, deadlines, history and outbox, in lock order.
        The four parts are listed here only: a batch of one goes through the same calls."""
        if not changes:
            return
        times = Times(self.sql, changes[0].fired.at)
        self._save(changes, times)
        self._stock(changes)
        self._deadlines(changes, times)
        self._record(changes, times)

    def save_lines(self, order: Order) -> None:
        """Per-line refunded quantities (after-sales refunds by line)."""
        self.sql.later(LINES.update, [{"refunded_quantity": ln.refunded_quantity,
                                       "order_id": order.id, "line_no": ln.line_no}
                                      for ln in order.lines], bind=True)

    def signal(self, name: str, entity: str, entity_id: int, order_id: int, at: datetime,
               data: dict[str, Any]) -> None:
        """An outbox event that is not a transition (an SLA breach, an escalation)."""
        self.sql.later(OUTBOX_INSERT, [{
            "event": f"orderpilot.{entity}.{name}", "entity": entity, "entity_id": entity_id,
            "order_id": order_id, "created_at": at,
            "payload": {"order_id": ids.ORDER(order_id), "at": at.isoformat(), **data}}],
            bind=True)

    def arm(self, kind: DeadlineKind, entity: str, entity_id: int, order_id: int,
            due: datetime) -> None:
        """(Re-)arm one timer outside a transition (a sweep found its row stale)."""
        self.timers_touched.add((entity, entity_id, kind.value))
        self.sql.later(DEADLINE_UPSERT, [{"kind": kind.value, "entity": entity,
                                          "entity_id": entity_id, "order_id": order_id,
                                          "due_at": due}], bind=True)

    # --- the four parts of a batch ---------------------------------------------------------

    def _stock(self, changes: Sequence[Change]) -> None:
        """Stock intents in step order; consecutive moves of one kind go in one call."""
        intents = [(intent, change) for change in changes for intent in change.fired.stock]
        if not intents:  # most steps move no stock
            return
        for intent, run in groupby(intents, key=lambda pair: pair[0]):
            batch = [change for _, change in run]
            if intent in CASE_INTENTS:  # after-sales: on the case's lines (case_stock.py)
                for change in batch:
                    self.cases.apply(intent, change.aggregate, change.fired)
                continue
            if intent is StockIntent.HOLD:
                for change in batch:
                    order = change.aggregate
                    if not self.stock.try_hold(order.id, list(order.allocation), change.fired.at):
                        raise StockTaken(order.public_id)
                continue
            order_ids = list(dict.fromkeys(change.order_id for change in batch))
            if intent is StockIntent.CONSUME:
                self.stock.consume(order_ids)
            elif intent is StockIntent.RELEASE:
                self.stock.release(order_ids)
            elif intent is StockIntent.RESTOCK:
                self.stock.restock(order_ids)

    def _save(self, changes: Sequence[Change], times: Times) -> None:
        """The aggregates, then the waybill counters past the numbers of the parcels created
        (inserted already): a number typed by a person is never handed out again."""
        self._update_aggregates(changes, times)
        carrier_store.pass_waybills(self.sql, [
            change.aggregate.tracking_no for change in changes
            if change.fired.entity == "shipment" and change.fired.from_state is None])

    def _update_aggregates(self, changes: Sequence[Change], times: Times) -> None:
        """One version-checked UPDATE per entity kind; creations were inserted already."""
        if len(changes) == 1:  # a batch of one (nearly every API call): nothing to group
            fired = changes[0].fired
            if fired.from_state is not None:
                self._update(BY_ENTITY[fired.entity], fired.entity,
                             [(changes[0].aggregate, 1, fired.at)], times)
            return
        moved: dict[tuple[str, int], tuple[Any, int, datetime]] = {}
        for change in changes:
            if change.fired.from_state is None:
                continue
            key = (change.fired.entity, change.aggregate.id)
            prior = moved.get(key)
            moved[key] = (change.aggregate, (prior[1] if prior else 0) + 1, change.fired.at)
        by_entity: dict[str, list[tuple[Any, int, datetime]]] = {}
        for (kind, _), item in moved.items():
            by_entity.setdefault(kind, []).append(item)
        for entity in ENTITY_ORDER:
            if batch := by_entity.get(entity):
                batch.sort(key=lambda item: item[0].id)
                self._update(BY_ENTITY[entity], entity, batch, times)

    def _update(self, rows: RowMap[Any], entity: str, batch: list[tuple[Any, int, datetime]],
                times: Times) -> None:
        """Version-checked UPDATEs of the columns the batch's aggregates changed (every
        mutable column of one not read through `rows`: row_changes.py), in one statement."""
        if len(batch) == 1:  # a batch of one (nearly every API call)
            agg, n, at = batch[0]
            values = rows.changed(agg, times)
            if values is None:
                values = rows.changes(agg, times)
            sets, names = [values], tuple(values)  # in `mutable` order, as bound
        else:
            sets, names = self._columns(rows, batch, times)
        params = [{**values, "id": agg.id, "version": agg.version,
                   "new_version": agg.version + n, "at": times(at)}
                  for values, (agg, n, at) in zip(sets, batch, strict=True)]
        first, one = batch[0][0], len(batch) == 1
        version = first.version if one else -1

        def checked(written: int) -> None:  # on PostgreSQL at the next round trip, before commit
            if written != len(params):
                raise ConcurrentUpdate(entity, first.public_id if one else "batch", version)

        self.sql.later(rows.update_of(names), params, checked)
        for values, (agg, n, _) in zip(sets, batch, strict=True):
            agg.version += n
            rows.wrote(agg, values)

    @staticmethod
    def _columns(rows: RowMap[Any], batch: list[tuple[Any, int, datetime]], times: Times
                 ) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        """A batch's rows for one UPDATE: each binds the columns any of them changed."""
        sets = [rows.changed(agg, times) for agg, _, _ in batch]
        if any(values is None for values in sets):  # one not tracked: every column, all rows
            return [rows.changes(agg, times) for agg, _, _ in batch], rows.mutable
        union = set().union(*sets)
        names = tuple(c for c in rows.mutable if c in union)
        return [values if len(values) == len(names) else _only(rows.changes(agg, times), names)
                for values, (agg, _, _) in zip(sets, batch, strict=True)], names

    def _deadlines(self, changes: Sequence[Change], times: Times) -> None:
        """The net effect of the batch's timers: cleared rows deleted, armed rows upserted."""
        net: dict[tuple[str, int, DeadlineKind], tuple[int, datetime] | None] = {}
        for change in changes:
            entity, number = change.fired.entity, change.aggregate.id
            for kind in change.fired.clear:
                net[(entity, number, kind)] = None
            for kind, due in change.fired.arm:
                net[(entity, number, kind)] = (change.order_id, due)
        if not net:
            return
        self.timers_touched.update((entity, number, kind.value) for entity, number, kind in net)
        # One DELETE per (entity, kind), its ids ascending: rows sorted by id first would
        # alternate kinds (an order clearing two timers) and cost a statement per row.
        cleared = sorted((entity, kind, number) for (entity, number, kind), value in net.items()
                         if value is None)
        for (entity, kind), keys in groupby(cleared, key=lambda k: (k[0], k[1])):
            self._delete_deadlines(entity, kind, [k[2] for k in keys])
        armed = [{"kind": kind.value, "entity": entity, "entity_id": number,
                  "order_id": value[0], "due_at": times(value[1])}
                 for (entity, number, kind), value in sorted(net.items()) if value is not None]
        self.sql.later(DEADLINE_UPSERT, armed)

    def _delete_deadlines(self, entity: str, kind: DeadlineKind, numbers: list[int]) -> None:
        for chunk in _chunks(numbers, IN_LIST_CHUNK):
            where, params = in_list("entity_id", chunk)
            self.sql.later(f"DELETE FROM deadlines WHERE entity = :entity AND kind = :kind "
                           f"AND {where}", [{**params, "entity": entity, "kind": kind.value}])

    def _record(self, changes: Sequence[Change], times: Times) -> None:
        """History and outbox: one row each per change, in step order."""
        history, outbox = [], []
        for change in changes:
            fired, number, at = change.fired, change.aggregate.id, times(change.fired.at)
            details = to_json(fired.payload)
            history.append({"entity": fired.entity, "entity_id": number,
                            "order_id": change.order_id, "trigger": fired.trigger,
                            "from_state": fired.from_state, "to_state": fired.to_state,
                            "actor": fired.actor, "at": at, "payload": details})
            outbox.append({"event": f"orderpilot.{fired.entity}.{fired.event}",
                           "entity": fired.entity, "entity_id": number,
                           "order_id": change.order_id, "created_at": at,
                           "payload": event_json(change, details)})
        self.sql.later(HISTORY_INSERT, history)
        self.sql.later(OUTBOX_INSERT, outbox)


def event_payload(change: Change) -> dict[str, Any]:
    """What an outbox event says: the transition, the entity's event data, the step details."""
    fired = change.fired
    return {"order_id": ids.ORDER(change.order_id), "entity_id": fired.entity_id,
            "trigger": fired.trigger, "from_state": fired.from_state,
            "to_state": fired.to_state, "actor": fired.actor, "at": fired.at.isoformat(),
            **change.data, "details": fired.payload}


def event_json(change: Change, details: str) -> str:
    """`to_json(event_payload(change))` from the step details already serialised for the
    history row: the same text (compact JSON, `details` the last key), one encoding less."""
    if "details" in change.data:  # the entity's data would place `details` elsewhere
        return to_json(event_payload(change))
    fired = change.fired
    head = to_json({"order_id": ids.ORDER(change.order_id), "entity_id": fired.entity_id,
                    "trigger": fired.trigger, "from_state": fired.from_state,
                    "to_state": fired.to_state, "actor": fired.actor,
                    "at": iso_utc(fired.at), **change.data})
    return f'{head[:-1]},"details":{details}}}'


def _only(values: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: values[name] for name in names}


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
