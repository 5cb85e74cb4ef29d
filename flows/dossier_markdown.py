"""Markdown for artifacts and pause forms: what a reviewer or an operator reads."""

from __future__ import annotations

from integrations.service.reviews import Dossier
from integrations.service.views import CaseView


def money(minor: int, currency: str) -> str:
    return f"{minor / 100:,.2f} {currency}"


def review_markdown(case: Dossier) -> str:
    """The order, why it was held, and the buyer's history, as markdown tables."""
    o, risk = case.order, case.order.risk or {}
    reasons = "\n".join(f"| {r['rule']} | {r['text']} |" for r in risk.get("reasons", [])) \
        or "| – | no reasons recorded |"
    lines = "\n".join(f"| {ln.sku} | {ln.quantity} | {money(ln.unit_price, o.currency)} |"
                      for ln in o.lines)
    past = "\n".join(f"| {p.id} | {p.state} | {money(p.total, o.currency)} | {p.created_at} |"
                     for p in case.past_orders) or "| – | first order | | |"
    summary = ", ".join(f"{n} {s}" for s, n in sorted(case.past_by_state.items())) or "none"
    return (f"# Risk review of {o.id}\n\n"
            f"**{money(o.total, o.currency)}** from buyer **{o.buyer_id}** "
            f"(since {case.buyer_since or '?'}, credit {case.credit_score}) — state "
            f"**{o.state}**, risk **{risk.get('action', '?')}** (score {risk.get('score')})\n\n"
            f"| rule | reason |\n|---|---|\n{reasons}\n\n"
            f"| sku | qty | unit price |\n|---|---|---|\n{lines}\n\n"
            f"Buyer history ({summary}):\n\n"
            f"| order | state | total | placed |\n|---|---|---|---|\n{past}\n")


def refund_markdown(case: CaseView, reasons: list[str]) -> str:
    """The request, its lines, and why it needs a person."""
    why = "\n".join(f"- {r}" for r in reasons) or "- (decided elsewhere)"
    lines = "\n".join(f"| {ln['line_no']} | {ln['quantity']} | {ln['amount'] / 100:,.2f} |"
                      for ln in case.lines)
    return (f"# Refund request {case.id} on {case.order_id}\n\n"
            f"**{case.kind}**, {case.requested_amount / 100:,.2f} requested: "
            f"“{case.reason}”\n\nWhy a person must decide:\n\n{why}\n\n"
            f"| line | qty | amount |\n|---|---|---|\n{lines}\n")
