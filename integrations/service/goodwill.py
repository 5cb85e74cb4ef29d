"""A refund not tied to a case — goodwill, a price adjustment — as the public entries make it
(`pilot.orders.refund_goodwill`, `POST /v1/ops/orders/{id}/refunds`, `orderpilot order
refund-goodwill`): the input checked, each bad field named and nothing written, then the one
service call that records and makes it (money_refunds.refund_order) and the answer as it
ended (GoodwillRefund)."""

from __future__ import annotations

from typing import Any

from integrations.service import money_refunds
from integrations.service.context import Context
from integrations.service.input_checks import check_actor, check_text, provider_ref_problem
from integrations.service.refunds_owed import masked_for
from integrations.service.views import GoodwillRefund, OrderView
from statemachine import ids, limits
from statemachine.currency import exponent
from statemachine.errors import InvalidInput


def refund_goodwill(ctx: Context, order_no: int, *, amount: Any, reason: Any, by: Any,
                    key: Any = None, currency: Any = None) -> GoodwillRefund:
    """Pay `amount` (minor units of the order's currency: 500 = ¥5.00) back through the
    provider. `key` makes a retry the same refund (the provider pays once); without one each
    call is a new refund. `currency`, when given, must be the order's."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_no)  # NotFound for an unknown order
    problems = {**_actor_problem(by), **_amount_problem(amount, order.currency),
                **_currency_problem(currency, order.currency, order_no)}
    problems |= _text_problem("reason", reason) | _key_problem(key)
    if problems:
        raise InvalidInput(problems)
    done = money_refunds.refund_order(ctx, order_no, amount, reason.strip(), by, key)
    with ctx.tx(readonly=True) as tx:
        answer = GoodwillRefund.of(done, OrderView.of(tx.store.get_order(order_no)))
    if answer.error is None or not done.error:
        return answer
    return answer.model_copy(update={"error": masked_for(ctx, order_no, done.error)})


def _actor_problem(by: Any) -> dict[str, str]:
    try:
        check_actor(by)
    except InvalidInput as error:  # named as the caller named it
        return {"by": next(iter(error.problems.values()))}
    return {}


def _amount_problem(amount: Any, currency: str) -> dict[str, str]:
    if type(amount) is int and amount > 0:
        return {}
    unit = f"1/{10 ** exponent(currency)} {currency}" if exponent(currency) else currency
    return {"amount": f"expected a positive whole number of {currency} minor units "
                      f"({unit} each: 500 = 5.00 {currency}) (got {amount!r})"}


def _currency_problem(currency: Any, ours: str, order_no: int) -> dict[str, str]:
    if currency is None or currency == ours:
        return {}
    return {"currency": f"order {ids.ORDER(order_no)} is in {ours} (got {currency!r}): the "
                        "amount is in the order's currency"}


def _text_problem(name: str, value: Any) -> dict[str, str]:
    try:
        check_text(name, value, limits.REASON, what="a reason")
    except InvalidInput as error:
        return dict(error.problems)
    return {}


def _key_problem(key: Any) -> dict[str, str]:
    return provider_ref_problem("key", key, "the idempotency key")
