"""The five kinds of console case — risk review, refund review, stall, dispute review, bounced
return — and
what the console does with one case run: open it (a suspended run with its form), apply the
answer, close it.

The flows below are the same cases run by Prefect's engine (a runner or worker executing the
deployment): they suspend with `suspend_flow_run` and apply the answer when resumed. The console
does these steps through the API instead, without a process per case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput

from flows.forms import (
    BouncedReturnAction,
    DisputeDecision,
    RefundDecision,
    ReviewDecision,
    StallAction,
)
from flows.naming import named, shop_of
from flows.wiring import context, ports
from integrations.console import casefiles, decisions
from integrations.console.casework import (
    DISPUTE_REVIEW,
    REFUND_REVIEW,
    RETURN_BOUNCED,
    RISK_REVIEW,
    STALL,
    OpenCase,
    open_case,
)
from integrations.console.jobs import Ports
from integrations.notifications.masking import mask_text
from integrations.service.context import Context


@dataclass(frozen=True)
class Kind:
    """How one kind of case looks in the console and how its answer is applied."""

    name: str
    entity_param: str  # the flow parameter that names the case: order_id | case_id | ...
    form: type[RunInput]
    describe: Callable[[Context, OpenCase, datetime], str]
    apply: Callable[[Context, Ports, str, dict[str, Any]], str]
    # before the form is shown: work the case needs first (a dispute's evidence mapped)
    prepare: Callable[[Context, str], None] | None = None
    # the form lapses at the case's due date (a late answer is refused; nothing is done)
    expires: bool = False
    # the description is also kept as the run's artifact under `<kind>-<entity>`
    artifact: bool = False
    # why a case no longer waits for a person, when its run is closed by the re-drive
    why_gone: Callable[[Context, str], str] | None = None

    def run_name(self, case: OpenCase) -> str:
        suffix = "" if case.entity == case.order_id else f"-{case.entity}"
        return f"{self.name}-{case.order_id}{suffix}"

    def parameters(self, case: OpenCase) -> dict[str, str]:
        return {"order_id": case.order_id, self.entity_param: case.entity}

    def tags(self, case: OpenCase) -> list[str]:
        return [f"kind:{self.name}", f"order:{case.order_id}", f"entity:{case.entity}",
                f"episode:{case.episode}"]

    def timeout(self, case: OpenCase, now: datetime) -> timedelta | None:
        """How long the form stays answerable: until the due date for a kind that expires."""
        return case.sla_left(now) if self.expires else None

    def artifact_key(self, case: OpenCase) -> str | None:
        return f"{self.name}-{case.entity}" if self.artifact else None


KINDS = {
    RISK_REVIEW: Kind(RISK_REVIEW, "order_id", ReviewDecision, casefiles.review_description,
                      lambda ctx, _ports, e, answer: decisions.decide_review(ctx, e, answer)),
    REFUND_REVIEW: Kind(REFUND_REVIEW, "case_id", RefundDecision, casefiles.refund_description,
                        lambda ctx, _ports, e, answer: decisions.decide_refund(ctx, e, answer)),
    STALL: Kind(STALL, "shipment_id", StallAction, casefiles.stall_description,
                decisions.act_on_stall),
    DISPUTE_REVIEW: Kind(DISPUTE_REVIEW, "dispute_id", DisputeDecision,
                         casefiles.dispute_description, decisions.decide_dispute,
                         prepare=decisions.prepare_dispute, expires=True, artifact=True,
                         why_gone=decisions.why_dispute_left),
    RETURN_BOUNCED: Kind(RETURN_BOUNCED, "case_id", BouncedReturnAction,
                         casefiles.bounced_return_description,
                         decisions.answer_bounced_return),
}


def in_engine(kind: str, entity: str, database_url: str | None) -> str:
    """One case, run by Prefect's engine: suspend with the form, apply the answer."""
    ctx, spec = context(database_url), KINDS[kind]
    if spec.prepare is not None and open_case(ctx, kind, entity) is not None:
        spec.prepare(ctx, entity)
    case, now = open_case(ctx, kind, entity), ctx.clock.now()
    if case is None:
        return f"nothing to do: {entity} needs no {kind}"
    description = spec.describe(ctx, case, now)
    if key := spec.artifact_key(case):
        create_markdown_artifact(mask_text(description), key=named(shop_of(ctx), key),
                                 description=f"{entity}: what a person confirms")
    left = spec.timeout(case, now)
    form = spec.form.with_initial_data(description=description)
    answer = suspend_flow_run(wait_for_input=form, key="answer-01",
                              timeout=None if left is None else int(left.total_seconds()))
    return spec.apply(ctx, ports(ctx), entity, answer.model_dump())


@flow(name=RISK_REVIEW, flow_run_name="risk-review-{order_id}")
def risk_review(order_id: str, database_url: str | None = None) -> str:
    """A person releases or rejects an order the risk engine held."""
    return in_engine(RISK_REVIEW, order_id, database_url)


@flow(name=REFUND_REVIEW, flow_run_name="refund-review-{order_id}-{case_id}")
def refund_review(order_id: str, case_id: str, database_url: str | None = None) -> str:
    """A person grants or refuses an after-sales request the refund rules held."""
    return in_engine(REFUND_REVIEW, case_id, database_url)


@flow(name=STALL, flow_run_name="stall-{order_id}-{shipment_id}")
def stall(order_id: str, shipment_id: str, database_url: str | None = None) -> str:
    """Operations watch a silent parcel: chase again or declare it lost."""
    return in_engine(STALL, shipment_id, database_url)


@flow(name=DISPUTE_REVIEW, flow_run_name="dispute-review-{order_id}-{dispute_id}")
def dispute_review(order_id: str, dispute_id: str, database_url: str | None = None) -> str:
    """A person submits a chargeback's evidence pack to the provider, or concedes."""
    return in_engine(DISPUTE_REVIEW, dispute_id, database_url)


@flow(name=RETURN_BOUNCED, flow_run_name="return-bounced-{order_id}-{case_id}")
def return_bounced(order_id: str, case_id: str, database_url: str | None = None) -> str:
    """A person answers a return the carrier sent back to the buyer: a new label, or close."""
    return in_engine(RETURN_BOUNCED, case_id, database_url)


FLOWS = {RISK_REVIEW: risk_review, REFUND_REVIEW: refund_review, STALL: stall,
         DISPUTE_REVIEW: dispute_review, RETURN_BOUNCED: return_bounced}
