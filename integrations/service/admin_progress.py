"""What a refund of ours owed in a provider's admin has been given so far, and what it still
lacks: its progress, kept per refund of ours in the inbox (`admin-refund:<key>`) and read by
refunds_owed (`given`, `redo`). service/admin_refunds.py settles refunds of ours from the
provider's refunds; this module is the account it keeps while they come in parts: the units of
its lines given back and what the provider priced them at (`units`, `due`), the money given
(`given`), the provider refunds that gave it (`refs`) and their transactions still pending
(`waiting`), what each provider refund still owes it while pending (`expects`); a failure in
the admin (service/failed_in_admin.py) and a chargeback (service/paid_twice.py) add theirs.
"""

from __future__ import annotations

from typing import Any

from integrations.service.context import Tx
from statemachine.money import PaymentOperation


def progress_of(tx: Tx, op: PaymentOperation) -> dict[str, Any]:
    """What provider refunds gave a refund of ours so far: units of its lines, what Shopify
    priced them at (`due`), the money given (`given`), their refs, their pending transactions."""
    kept = tx.store.inbox_get(progress_key(op)) or {}
    return {**kept, "target": op.order_id, "units": dict(kept.get("units", {})),
            "due": int(kept.get("due", 0)), "given": int(kept.get("given", 0)),
            "refs": list(kept.get("refs", [])), "waiting": list(kept.get("waiting", []))}


def progress_key(op: PaymentOperation) -> str:
    return f"admin-refund:{op.key}"


def expect(progress: dict[str, Any], ref: str, change: int, pending: bool) -> None:
    """What the provider refund `ref` still owes a refund of ours for its units while any of
    its transactions is pending (`expects`, by refund): `change` added to it (the units' price
    as they are given back, less the money as it comes). What a transaction of `ref` may pay
    — or fail to pay — for these units is at most that, never the whole of its money (it may
    pay another line, or shipping, too). Nothing kept once it owes nothing."""
    expects = dict(progress.get("expects", {}))
    if pending or ref in expects:
        left = max(int(expects.get(ref, 0)) + change, 0)
        if left:
            expects[ref] = left
        else:
            expects.pop(ref, None)
    progress["expects"] = expects


def take_units(op: PaymentOperation, progress: dict[str, Any], pool: list[list[Any]]) -> int:
    """Take from `pool` (the refund's lines not yet spoken for) the units `op` still lacks;
    what the refund priced those units at (their share of each line's subtotal)."""
    priced = 0
    for line in op.lines:
        had = int(progress["units"].get(str(line.line_no), 0))
        for entry in pool:
            nos, left, subtotal, units = entry
            take = min(line.quantity - had, left) if line.line_no in nos else 0
            if take > 0:
                entry[1] -= take
                had += take
                priced += subtotal * take // units
        progress["units"][str(line.line_no)] = had
    return priced


def settles(op: PaymentOperation, progress: dict[str, Any]) -> bool:
    """All its units are given back, and the money with them: all it asks, or all the
    provider will give (none of their transactions pending any more)."""
    back = all(int(progress["units"].get(str(ln.line_no), 0)) >= ln.quantity
               for ln in op.lines)
    given = progress["given"]
    return back and given > 0 and (given >= op.amount or not progress["waiting"])


def still_lacking(tx: Tx, op: PaymentOperation) -> int:
    """What a refund of ours owed in the admin still lacks: what it asks less the money
    provider refunds already gave for its units (held for it until all are back)."""
    return op.amount - (progress_of(tx, op)["given"] if op.lines else 0)
