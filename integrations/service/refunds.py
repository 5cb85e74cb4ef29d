"""Refund review: triage a request (auto-approve or a person), apply the decision, settle.

Settling a refund-only case records the refund (a pending operation, keyed per case) under the
order's lock, calls the payment gateway after that commit, and books its answer on case and
order (money_refunds, money): a cancellation at the same moment sees the refund in flight.
A person granting a refund-only request records it in the approval's own transaction
(record_granted); the API, the CLI and HTTP then pay it at once and answer how it ended as
`pilot.cases.refund` does (paid_back), the console's settle job otherwise — once between them,
by the one key.
Return cases move to awaiting_return; the refund follows inspection of the goods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from integrations.db import buyers
from integrations.service import aftersales, case_money, money, money_refunds
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from integrations.service.refunds_owed import masked_for
from integrations.service.views import CaseRefund, CaseView, admin_note
from statemachine.aftersales import AfterSalesCase, CaseKind, CaseState, amount_due
from statemachine.errors import GuardRejected, SecretsUnavailable
from statemachine.money import OperationStatus, PaymentOperation
from statemachine.ports import PaymentGateway, PermanentPaymentError, TransientPaymentError
from statemachine.refund_policy import (
    RefundFacts,
    RefundRules,
    granted,
    needs_a_person,
    waiting,
)

ACTOR = "system:refund-review"
ACCEPTED = (CaseState.AUTO_APPROVED, CaseState.APPROVED)
NOT_REFUNDED = ": not refunded: "  # settle's answer for a refusal that may lift


def triage(ctx: Context, case_id: int, rules: RefundRules | None = None) -> list[str]:
    """Auto-approve a low-risk request, else put it under review; returns the review reasons."""
    now = ctx.clock.now()  # of the facts read and of the step
    with ctx.tx() as tx:
        case = tx.store.get_case(case_id, lock=True)  # the order's lock: one triage at a time
        if case.state is not CaseState.REQUESTED:
            return [f"already triaged: {case.state.value}"]
        reasons = needs_a_person(_facts(tx, case, now), rules or RefundRules())
        trigger = "review" if reasons else "auto_approve"
        aftersales.fire(ctx, tx, case, trigger, ACTOR,
                        {"reason": "; ".join(reasons) or "low risk: approved at once"}, now=now)
        return reasons


@dataclass(frozen=True)
class Granted:
    """The refund a grant recorded with it: `key`, to pay after the commit (`pay`) — or, when
    the store refused to record it, `refused`: the guard's words (its order refunded in full
    already, by a cancellation), key None, nothing asked of the provider. `amount`: what the
    case was owed. `at`: the grant's time, at which the refund's answer is booked (`paid_back`).
    The approval stands either way."""

    case_id: int
    amount: int
    currency: str
    key: str | None = None
    refused: str | None = None
    at: datetime = field(kw_only=True)


@retrying("the review decision")  # one transaction, re-run whole after a collision
def decide(ctx: Context, case_id: int, approve: bool, reason: str, reviewer: str
           ) -> Granted | None:
    """A person's decision on a case under review; InvalidTransition if decided elsewhere.

    Granting a refund-only request records its refund (in flight) in the same transaction
    (`record_granted`): its key is returned for the caller to pay after the commit
    (`paid_back`) — or the settle job pays it; a crash in between leaves it pending, for the
    money sweep. None for a rejection or a grant that asks for no money (a return)."""
    actor, now = f"reviewer:{reviewer}", ctx.clock.now()
    with ctx.tx() as tx:
        case = tx.store.get_case(case_id, lock=True)  # the order's lock
        aftersales.fire(ctx, tx, case, "approve" if approve else "reject", actor,
                        {"reason": reason}, now=now)
        return record_granted(ctx, tx, case_id, actor, now) if approve else None


def record_granted(ctx: Context, tx: Tx, case_id: int, actor: str, now: datetime
                   ) -> Granted | None:
    """In the transaction that grants a request (its order locked): record the refund of a
    refund-only case to be paid, keyed `refund:<case>` like the settle job's, so the two
    pay it once between them (settle). None for another kind (its refund follows the
    inspection). When the store refuses the refund (its order refunded in full already, by a
    cancellation) the approval stands and the refusal is returned (`Granted.refused`), not
    swallowed: every caller answers it. Recorded at `now`, the grant's time."""
    case = tx.store.get_case(case_id)
    if case.kind is not CaseKind.REFUND_ONLY or case.state not in ACCEPTED:
        return None
    order = tx.store.get_order(case.order_id, lock=True)
    try:
        recorded = money_refunds.request_case_refund(ctx, tx, order, case, actor, at=now)
    except GuardRejected as refusal:
        owed = amount_due(case, case_money.claims_refunded(tx, case))
        return Granted(case_id, owed, order.currency, refused=str(refusal), at=now)
    return Granted(case_id, recorded.amount, recorded.currency, key=recorded.key, at=now)


def paid_back(ctx: Context, granted: Granted) -> CaseRefund:
    """After the grant's commit: pay the refund it recorded (`pay`) and answer as
    `pilot.cases.refund` does — succeeded; pending (a timeout: the money sweep makes the call
    again with the same key); refused by the provider (its text, the buyer masked) — with the
    case as it is then. A refund the store refused to record answers `refused` with the
    guard's words and no key: nothing was asked of the provider."""
    if granted.key is None:
        return CaseRefund.refused_by_store(get(ctx, granted.case_id), granted.amount,
                                           granted.currency, granted.refused or "refused")
    return answered(ctx, pay(ctx, granted.key, granted.at), get(ctx, granted.case_id))


def answered(ctx: Context, done: PaymentOperation, case: CaseView) -> CaseRefund:
    """A case refund's operation as callers are told of it (`CaseRefund`): the provider's text
    in `error` masked — it may quote the buyer."""
    refund = CaseRefund.of(done, case)
    if refund.error is None or not done.error:
        return refund
    return refund.model_copy(update={"error": masked_for(ctx, done.order_id, done.error)})


def pay(ctx: Context, key: str, now: datetime) -> PaymentOperation:
    """Make a recorded refund's provider call (the shop's gateway) and book its answer; as it
    ends — pending after a timeout, or when the payment secrets cannot be read (its `error`
    `payment secrets unavailable: …`, nothing asked of the provider): the money sweep makes
    it again with the same key; so does a collision (or the store away) settling the answer:
    the sweep asks again under the key and the provider answers with its first result. Never
    raises for any of them: the approval before it stands. The answer is booked at `now`,
    the grant's time."""
    money.execute_after_commit(ctx, [key], now)
    return money.get(ctx, key)


def settle(ctx: Context, case_id: int, gateway: PaymentGateway) -> str:
    """Refund an accepted refund-only case, or ask for the goods back; returns the new state.

    Idempotent: a case settled already — by this job before, by the approval that paid it, or
    by another console a moment ago — is left as it is and its state returned, the same answer
    for every caller; a refund recorded and still in flight is made with its key (the provider
    answers a repeated key with its first result: the money moves once). An order paid
    through Shopify: nothing is asked of `gateway` — the refund is owed in Shopify's admin,
    and the answer (`approved: to refund in Shopify's admin…`) says so.

    A refund the store refuses is answered, never raised: refused for good by the case's own
    facts (its order refunded in full already, by a cancellation; its units refunded by another
    case) the case is closed, nothing paid, the refusal its reason (`closed: nothing refunded:
    …`); refused for now (money of the order in flight or disputed) it stays accepted and the
    answer says why (`approved: not refunded: …`). Payment secrets that cannot be read leave
    the refund recorded and pending (`approved: refund pending: payment secrets unavailable
    …`): the money sweep makes the call under its key once they can be read."""
    now = ctx.clock.now()  # of the refund recorded, or of the case's step
    case = get(ctx, case_id)
    if case.state not in {s.value for s in ACCEPTED}:
        return case.state
    if case.kind != CaseKind.REFUND_ONLY.value:
        return _ask_for_the_goods(ctx, case_id, now)
    try:
        with ctx.tx() as tx:  # recorded (in flight) under the order's lock before money moves
            locked = tx.store.get_case(case_id, lock=True)
            if locked.state not in ACCEPTED:  # settled by another console meanwhile
                return locked.state.value
            order = tx.store.get_order(locked.order_id, lock=True)
            key = money_refunds.request_case_refund(ctx, tx, order, locked, ACTOR,
                                                    at=now).key
    except GuardRejected as refusal:  # nothing recorded, nothing asked of the provider
        return _refused_by_store(ctx, case_id, refusal, now)
    try:  # the refund's commit is behind us: nothing after it is raised over it, but a
        # timeout (the console job's retry asks again under the key) and unreadable secrets
        money.execute_after_commit(ctx, [key], now, gateway=gateway,
                                   raising=(TransientPaymentError, SecretsUnavailable))
    except SecretsUnavailable as error:  # recorded, never asked: the money sweep pays it
        return (f"{get(ctx, case_id).state}: refund pending: {money.SECRETS_UNAVAILABLE} "
                f"({error.setting} in the Prefect Secret block {error.block!r}); the money "
                "sweep pays it under its key once they can be read")
    done = money.get(ctx, key)
    if done.status is OperationStatus.FAILED:
        raise PermanentPaymentError(done.error or f"the provider refused refund {key}")
    note = admin_note(done)  # Shopify's money: never sent through `gateway`, owed in its admin
    if note is None and done.status is OperationStatus.PENDING and (
            done.error or "").startswith(money.LEFT_TO_THE_SWEEP):
        # a collision settling the provider's answer (or the store away): the sweep makes
        # the call again under the key, and the provider answers with its first result
        note = f"refund pending: {done.error}"
    return get(ctx, case_id).state + (f": {note}" if note else "")


@retrying("closing a case nothing can be refunded for")
def _refused_by_store(ctx: Context, case_id: int, refusal: GuardRejected, now: datetime
                      ) -> str:
    """The store refused the case's refund. The case's own guard reads settled facts (what its
    order has left to refund, its units not refunded yet): that refusal is for good, and the
    case is closed with it — finance sees it ended with nothing paid, not an approved case
    that looks owed. The order's (a refund in flight, a dispute open) may lift: left as is."""
    reason = refusal.reason
    if refusal.entity != "case":
        return f"{get(ctx, case_id).state}{NOT_REFUNDED}{reason}"
    with ctx.tx() as tx:
        locked = tx.store.get_case(case_id, lock=True)
        if locked.state not in ACCEPTED:  # settled by another console meanwhile
            return locked.state.value
        aftersales.fire(ctx, tx, locked, "close", ACTOR,
                        {"reason": f"nothing refunded: {reason}"}, now=now)
    return f"closed: nothing refunded: {reason}"


@retrying("asking for the goods back")
def _ask_for_the_goods(ctx: Context, case_id: int, now: datetime) -> str:
    """The return label goes out (`await_return`), decided under the order's lock: a case
    another console settled since it was read is left as it is (no raw InvalidTransition)."""
    with ctx.tx() as tx:
        locked = tx.store.get_case(case_id, lock=True)
        if locked.state in ACCEPTED:
            aftersales.fire(ctx, tx, locked, "await_return", ACTOR, {}, now=now)
    return get(ctx, case_id).state


def get(ctx: Context, case_id: int) -> CaseView:
    with ctx.tx(readonly=True) as tx:
        return CaseView.of(tx.store.get_case(case_id))


def _facts(tx: Tx, case: AfterSalesCase, now: datetime) -> RefundFacts:
    order = tx.store.get_order(case.order_id)
    buyer = buyers.buyer(tx.connection, order.buyer_id)
    others = [c for c in tx.store.cases_of(order.id) if c.id != case.id]
    return RefundFacts(amount=case.requested_amount,
                       buyer_credit=buyer.credit_score, order_age=now - order.created_at,
                       buyer_age=now - buyer.created_at,
                       paid_before=buyers.paid_orders_before(tx.connection, order.buyer_id,
                                                             order.created_at),
                       currency=order.currency,
                       order_granted=granted(others, {c.id: case_money.claims_refunded(tx, c)
                                                      for c in others}),
                       order_waiting=waiting(others, case))
