"""The forms people fill in the Prefect UI. A choice is a required `Literal` (a dropdown with
nothing preselected), never a bool (a switch that looks "off" but is unset)."""

from __future__ import annotations

from typing import Annotated, Literal

from prefect.input import RunInput
from pydantic import Field

NAME = r"^\S(.{0,98}\S)?$"
# what every form asks of the person deciding, worded and bounded once
YourName = Annotated[str, Field(pattern=NAME, description="Your name, as the history records it.")]
Why = Annotated[str, Field(min_length=1, max_length=500, description="Why; kept in the history.")]


class ReviewDecision(RunInput):
    """Release the held order to payment, or reject it."""

    decision: Literal["approve", "reject"] = Field(
        description="approve: the buyer can pay. reject: the stock is released.")
    reason: Why
    reviewer: YourName
    blacklist_buyer: bool = Field(False, description="On a reject: also blacklist the buyer.")


class RefundDecision(RunInput):
    """Grant or refuse the after-sales request."""

    decision: Literal["approve", "reject"] = Field(
        description="approve: refund (or ask for the goods back). reject: refuse the request.")
    reason: Why
    reviewer: YourName


class StallAction(RunInput):
    """What to do about the silent parcel (the run closes by itself at the next scan)."""

    action: Literal["chase_again", "declare_lost"] = Field(
        description="chase_again: ask the carrier once more. declare_lost: compensate the "
                    "buyer and file a claim.")
    note: str = Field(min_length=1, max_length=500, description="What you know; kept.")
    operator: YourName


class BouncedReturnAction(RunInput):
    """What to do about the return the carrier sent back to the buyer."""

    action: Literal["new_label", "close"] = Field(
        description="new_label: the buyer gets a new return label and sends the goods again. "
                    "close: end the case; the buyer keeps the goods, nothing is refunded.")
    note: Why
    operator: YourName


class DisputeDecision(RunInput):
    """Send the evidence shown above to the provider, or concede the chargeback."""

    decision: Literal["submit", "accept"] = Field(
        description="submit: send the evidence above to the provider, once. accept: concede; "
                    "the order books the chargeback.")
    note: Why
    reviewer: YourName
    extra_text: str = Field("", max_length=1000, description="On a submit: a paragraph added "
                            "to the uncategorized text the bank reads (optional).")
