"""An operation's next key (`base`, then `base:2`, `base:3` after failures) counts only the
attempts at `base`, not other keys that merely start like it: the void of a superseded payment
(`void:o-N:<payment>`) is not an attempt at `void:o-N`. Before, a later authorisation's void was
answered with that other payment's operation and never made (the buyer's money stayed held
until the provider dropped it). Both stores."""

from __future__ import annotations

from integrations.db.money_store import MoneyStore
from integrations.ingest.money_events import apply_money_event
from integrations.service import money
from statemachine.money import OperationKind, OperationStatus
from statemachine.ports import MoneyEvent
from tests.factories import placed_order, stock


def notice(pilot, order, kind: str, payment_ref: str):
    event = MoneyEvent("simulated", f"evt-{kind}-{payment_ref}", kind, payment_ref,
                       order.total, "CNY", pilot.clock.now(), order_id=order.id)
    return apply_money_event(pilot.context, event)


def test_a_new_authorisation_is_voided_under_its_own_key(any_pilot):
    # Given a paid order, and the recorded void of a payment another one superseded
    stock(any_pilot, quantity=10)
    order = placed_order(any_pilot, quantity=1)
    number = int(order.id[2:])
    notice(any_pilot, order, "captured", "wx-1")
    ctx = any_pilot.context
    with ctx.tx() as tx:
        money.request(ctx, tx, tx.store.get_order(number, lock=True), OperationKind.VOID,
                      order.total, f"void:{order.id}:wx-2", "system:money", payment_ref="wx-2",
                      reason="another payment paid the order", at=any_pilot.clock.now())
    # When the buyer's card is authorised once more for the paid order
    outcome, follow = notice(any_pilot, order, "authorised", "wx-3")
    # Then that authorisation gets a void of its own (not wx-2's answered back)
    assert outcome.status == 200 and "released" in outcome.body["note"], outcome.body
    assert follow == [f"void:{order.id}"]
    with ctx.tx(readonly=True) as tx:
        store = MoneyStore(tx.store.sql)
        voids = {op.key: op.payment_ref for op in (store.by_key(k) for k in (
            f"void:{order.id}", f"void:{order.id}:wx-2"))}
        assert voids == {f"void:{order.id}": "wx-3", f"void:{order.id}:wx-2": "wx-2"}
        assert store.latest(f"void:{order.id}", number).payment_ref == "wx-3"
        assert store.count_keys(f"void:{order.id}", number) == 1


def test_retries_after_a_failure_still_count_and_other_keys_do_not(any_pilot):
    stock(any_pilot, quantity=10)
    order = placed_order(any_pilot, quantity=1)
    number, ctx = int(order.id[2:]), any_pilot.context
    with ctx.tx() as tx:
        locked = tx.store.get_order(number, lock=True)
        for key in (f"void:{order.id}", f"void:{order.id}:wx-9", f"void:{order.id}0"):
            money.request(ctx, tx, locked, OperationKind.VOID, 100, key, "t", payment_ref="p",
                          at=any_pilot.clock.now())
        MoneyStore(tx.store.sql).settle(f"void:{order.id}", OperationStatus.FAILED,
                                        any_pilot.clock.now(), None)
    with ctx.tx() as tx:
        # the first attempt failed: the next is `:2` (wx-9's and o-N0's keys are not attempts)
        assert money.key_for(tx, f"void:{order.id}", number) == f"void:{order.id}:2"
