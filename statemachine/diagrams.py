"""Mermaid diagrams of every lifecycle, generated from the transition tables."""

from __future__ import annotations

from statemachine.aftersales import CASE_LIFECYCLE
from statemachine.dispute import DISPUTE_LIFECYCLE
from statemachine.lifecycle import Lifecycle
from statemachine.order import ORDER_LIFECYCLE
from statemachine.shipment import SHIPMENT_LIFECYCLE

LIFECYCLES: dict[str, Lifecycle] = {"order": ORDER_LIFECYCLE, "shipment": SHIPMENT_LIFECYCLE,
                                    "case": CASE_LIFECYCLE, "dispute": DISPUTE_LIFECYCLE}


def mermaid_markdown(which: str = "all") -> str:
    """Markdown with one ```mermaid block per lifecycle (or just the one asked for)."""
    if which != "all" and which not in LIFECYCLES:
        raise ValueError(f"which must be one of all, {', '.join(LIFECYCLES)} (got {which!r})")
    names = list(LIFECYCLES) if which == "all" else [which]
    blocks = [f"### {name}\n\n```mermaid\n{LIFECYCLES[name].mermaid()}\n```" for name in names]
    return "\n\n".join(blocks)
