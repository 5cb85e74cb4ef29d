"""One function per rule kind: `(facts, signals, ruleset) -> Reason | None`.

A rule returns None when it does not fire, including when a value it needs is unknown.
Every rule id here is stable; it is what decisions, reports and docs refer to.
"""

from __future__ import annotations

from collections.abc import Callable

from statemachine.currency import shown
from statemachine.region_conflict import describe

from .facts import PlacementFacts, Reason, RiskAction
from .ruleset import RuleSet
from .signals import RiskSignals, account_age_seconds

Rule = Callable[[PlacementFacts, RiskSignals, RuleSet], Reason | None]


def blacklist(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when the adapter found the buyer, device, phone, address or IP on a blacklist."""
    if not signals.blacklist_hits:
        return None
    kinds = ", ".join(signals.blacklist_hits)
    return Reason("blacklist", f"on the blacklist: {kinds}", {"hits": signals.blacklist_hits})


def sku_daily_limit(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when today's units of a sku for this account would pass the sku's daily limit."""
    bought, cfg = signals.sku_bought_today, rs.sku_daily_limit
    if bought is None:
        return None
    for line in facts.lines:
        limit = cfg.limits.get(line.sku, cfg.default_limit)
        if limit is not None and bought.get(line.sku, 0) + line.quantity > limit:
            seen = {"sku": line.sku, "bought_today": bought.get(line.sku, 0),
                    "quantity": line.quantity, "limit": limit}
            return Reason("sku_daily_limit", f"daily limit of {limit} for {line.sku} passed", seen)
    return None


def credit_restricted(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when the buyer's credit score is below the restriction threshold."""
    score, floor = signals.credit_score, rs.credit.restricted_below
    if score is None or score >= floor:
        return None
    return Reason("credit_restricted", f"credit score {score} is below {floor}",
                  {"credit_score": score, "restricted_below": floor})


def velocity(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when any configured dimension has more earlier orders in the window than allowed."""
    cfg = rs.velocity
    counts = signals.velocity.items()
    over = {d: n for d, n in counts if d in cfg.dimensions and n >= cfg.max_orders}
    if not over:
        return None
    text = f"more than {cfg.max_orders} orders in {cfg.window_seconds} s by " + ", ".join(over)
    return Reason("velocity", text, {"earlier_orders": over, "window_seconds": cfg.window_seconds})


def amount_threshold(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when the order amount is above the review threshold of its currency, or when its
    currency has none (a person looks rather than an amount passing unchecked)."""
    band = rs.amounts_for(facts.currency)
    if band is None:
        return Reason("amount_threshold", f"no amount threshold for {facts.currency} orders "
                      f"(set other_currencies.{facts.currency})",
                      {"amount": facts.amount, "currency": facts.currency, "threshold": None})
    if facts.amount <= band.review_above:
        return None
    amount, limit = shown(facts.amount, facts.currency), shown(band.review_above, facts.currency)
    return Reason("amount_threshold", f"amount {amount} above {limit}",
                  {"amount": facts.amount, "currency": facts.currency,
                   "threshold": band.review_above})


def new_account_bulk(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when a young account buys more units of one item than allowed."""
    age, cfg = account_age_seconds(signals, facts.placed_at), rs.new_account_bulk
    if age is None or age >= cfg.max_account_age_seconds:
        return None
    biggest = max((line.quantity for line in facts.lines), default=0)
    if biggest <= cfg.max_quantity:
        return None
    return Reason("new_account_bulk", f"account {int(age)} s old buys {biggest} of one item",
                  {"account_age_seconds": age, "quantity": biggest,
                   "max_quantity": cfg.max_quantity})


def vague_address(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when the parsed address is vague in a way the rule set names: no district, no
    house number, a pickup locker, or a bare landmark."""
    if facts.address is None:
        return None
    why = [kind for kind in facts.address.vagueness() if kind in rs.address.vague]
    if not why:
        return None
    return Reason("vague_address", "shipping address is vague: " + ", ".join(why),
                  {"vague": why, "region_code": facts.address.region_code})


def address_contradiction(facts: PlacementFacts, signals: RiskSignals,
                          rs: RuleSet) -> Reason | None:
    """Fires when the address's region fields contradict each other (广东省 / 杭州市 / 西湖区):
    a placement that could not refuse it (a Shopify webhook, an import) is held for a person
    to settle where the parcel goes. Not passed by the allow lane (engine.py)."""
    if facts.address is None or not facts.address.conflicts:
        return None
    conflicts = facts.address.conflicts
    return Reason("address_contradiction",
                  "shipping address contradicts itself: " + describe(conflicts),
                  {"conflicts": [str(c) for c in conflicts],
                   "region_code": facts.address.region_code})


def virtual_phone(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires for a mainland mobile number in a virtual-operator segment (170, 171, 162, ...):
    the buyer's, else the recipient's when it is another (a prefix check on numbers placement
    has already, no lookup). Says whose when the number is only the recipient's."""
    segments = rs.phone.virtual_segments
    virtual = [p for p in facts.phones if p.startswith("+86") and p[3:6] in segments]
    if not virtual:
        return None
    number = virtual[0]
    recipients = number != facts.phone or facts.phone_is_recipients
    whose = "recipient's phone" if recipients else "phone"
    return Reason("virtual_phone", f"{whose} in the virtual-operator segment {number[3:6]}",
                  {"segment": number[3:6]} | _whose(recipients))


def phone_velocity(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when one of the order's numbers (the buyer's, the recipient's) went on orders of
    `max_buyers` or more other buyers in the window: one receiving number behind many
    accounts is how order-farming rings work. Shows the number masked (reasons reach history
    rows, review forms and events), and whose it is on this order when it is only the
    recipient's (the buyer gave another number of their own, or none)."""
    others, cfg = signals.phone_other_buyers, rs.phone_velocity
    if others is None or not facts.phones or others < cfg.max_buyers:
        return None
    number = signals.shared_phone or facts.phones[0]
    recipients = number != facts.phone or facts.phone_is_recipients
    whose, shown = ("recipient's phone" if recipients else "phone"), masked_phone(number)
    return Reason("phone_velocity",
                  f"{whose} {shown} on orders of {others} other buyers in "
                  f"{cfg.window_seconds} s",
                  {"phone": shown, "other_buyers": others, "max_buyers": cfg.max_buyers,
                   "window_seconds": cfg.window_seconds} | _whose(recipients))


def _whose(recipients: bool) -> dict[str, str]:
    """A reason's `whose`: set when the number it names is only the recipient's — the buyer
    gave another of their own, or none (placement then keeps the recipient's as the order's
    phone, and "phone" alone would read as the buyer's)."""
    return {"whose": "recipient"} if recipients else {}


def masked_phone(e164: str) -> str:
    """An E.164 number with its middle hidden, as notifications/masking.py shows it for China
    (+8613800138000 → 138****8000, a landline with its trunk 0: 010****9988); elsewhere the
    digits after the + the same way (+14155550100 → +141****0100)."""
    digits, prefix = e164.lstrip("+"), "+"
    if e164.startswith("+86"):
        digits, prefix = e164[3:], ""
        mobile = len(digits) == 11 and digits.startswith("1")  # Beijing's 10… is a landline
        digits = digits if mobile else "0" + digits
    if len(digits) < 8:
        return prefix + "*" * max(len(digits) - 2, 1) + digits[-2:]
    lead = min(3, len(digits) - 8)
    return f"{prefix}{digits[:lead]}{'*' * (len(digits) - lead - 4)}{digits[-4:]}"


def address_changes(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when the buyer changed the address more often than allowed."""
    changes, limit = signals.address_changes, rs.address.max_changes
    if changes is None or changes <= limit:
        return None
    return Reason("address_changes", f"address changed {changes} times (limit {limit})",
                  {"address_changes": changes, "max_changes": limit})


def cancel_rate(facts: PlacementFacts, signals: RiskSignals, rs: RuleSet) -> Reason | None:
    """Fires when a buyer with enough orders cancels more often than the threshold."""
    total, cancelled, cfg = signals.orders_total, signals.orders_cancelled, rs.cancel_rate
    if total is None or cancelled is None or total < cfg.min_orders:
        return None
    rate = cancelled / total
    if rate <= cfg.max_rate:
        return None
    return Reason("cancel_rate", f"cancel rate {rate:.0%} over {total} orders",
                  {"orders_total": total, "orders_cancelled": cancelled, "max_rate": cfg.max_rate})


def rule_action(rule: Rule, rs: RuleSet) -> RiskAction:
    """The action a rule's firing asks for under this rule set (`actions` overrides all)."""
    if rule.__name__ in rs.actions:
        return rs.actions[rule.__name__]
    configured = {
        blacklist: rs.blacklist_action,
        sku_daily_limit: rs.sku_daily_limit.action,
        credit_restricted: rs.credit.restricted_action,
        velocity: rs.velocity.action,
        virtual_phone: rs.phone.action,
        phone_velocity: rs.phone_velocity.action,
    }
    return configured.get(rule, RiskAction.REVIEW)


ALL_RULES: tuple[Rule, ...] = (
    blacklist, sku_daily_limit, credit_restricted, velocity, amount_threshold,
    new_account_bulk, vague_address, address_changes, cancel_rate, virtual_phone,
    address_contradiction, phone_velocity,
)
