"""Step-up verification of an order: send the buyer a code, check the answer.

`start` runs after the placement has committed (it talks to an SMS gateway): it opens the
order's one challenge and sends it. `answer` checks a code in one transaction: right → the
order is approved (its stock hold starts), wrong → one attempt used, the third wrong code
rejects it. The sweep rejects an order whose challenge was not answered in time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from integrations.db.verification_store import ChallengeStore
from integrations.service import orders
from integrations.service.context import Context, Tx
from statemachine import ids
from statemachine.errors import GuardRejected, InvalidInput
from statemachine.order_aggregate import OrderState
from statemachine.verification import MAX_ATTEMPTS, Challenge, code_hash, code_matches

BUYER = "buyer:verification"


@dataclass(frozen=True, slots=True)
class Answer:
    order_id: str
    passed: bool
    state: str
    attempts_left: int


def after_placement(ctx: Context, order_id: int, state: OrderState, now: datetime) -> None:
    """A placement has committed: if it left the order verifying, send the buyer a code now.
    Both placement paths (the Python API, the shop's webhook) call this, so the rule is here
    once; a replayed webhook calls it again, and `start` opens one challenge per order.
    `now` is the placement call's one reading of the clock: the challenge is opened and sent
    at the time the placement wrote, not at a second reading after it committed."""
    if state is OrderState.VERIFYING:
        start(ctx, order_id, now)


def start(ctx: Context, order_id: int, now: datetime) -> bool:
    """Open and send the order's challenge; False when it is not verifying, already has one,
    or the gateway refused (then the timer rejects the order unless someone resends)."""
    public = ids.ORDER(order_id)
    code = f"{secrets.randbelow(10 ** 6):06d}"
    expires = now + ctx.timeouts.verification
    with ctx.tx() as tx:
        order = tx.store.get_order(order_id)
        phone = order.attrs.get("phone")
        if order.state is not OrderState.VERIFYING or not phone:
            return False
        if not ChallengeStore(tx.connection).open(order_id, code_hash(public, code), now,
                                                  expires):
            return False
    sent = ctx.verifier.send(Challenge(public, phone, code, expires))
    with ctx.tx() as tx:
        ChallengeStore(tx.connection).mark_sent(order_id, sent, now)
    return sent


def answer(ctx: Context, order_id: int, code: str, now: datetime) -> Answer:
    """Check the buyer's code; approves on a match, rejects on the last wrong try."""
    with ctx.tx() as tx:
        return answer_in(ctx, tx, order_id, code, now)


def answer_in(ctx: Context, tx: Tx, order_id: int, code: str, now: datetime) -> Answer:
    """`answer` inside the caller's transaction (the webhook logs the event in the same one)."""
    if not isinstance(code, str) or not code.strip().isdigit():
        raise InvalidInput({"code": f"expected the digits from the message (got {code!r})"})
    public = ids.ORDER(order_id)
    order = tx.store.get_order(order_id)
    store = ChallengeStore(tx.connection)
    challenge = store.get(order_id, lock=True)
    if order.state is not OrderState.VERIFYING or challenge is None:
        raise GuardRejected("order", public, order.state.value, "verify",
                            "the order is not waiting for a verification code")
    if now > challenge.expires_at:  # the sweep will reject it; the code is no good any more
        raise GuardRejected("order", public, order.state.value, "verify",
                            f"the code expired at {challenge.expires_at.isoformat()}")
    if code_matches(public, code, challenge.code_hash):
        orders.fire(ctx, tx, order, "approve", BUYER, {"reason": "verification passed"}, now=now)
        return Answer(public, True, order.state.value, MAX_ATTEMPTS - challenge.attempts)
    store.count_attempt(order_id)
    left = MAX_ATTEMPTS - challenge.attempts - 1
    if left <= 0:
        orders.fire(ctx, tx, order, "reject", BUYER,
                    {"reason": f"verification failed: {MAX_ATTEMPTS} wrong codes"}, now=now)
    return Answer(public, False, order.state.value, max(left, 0))
