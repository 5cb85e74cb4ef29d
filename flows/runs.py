"""Per-order run hygiene: tags to find runs by order, artifacts a person can read."""

from __future__ import annotations

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from integrations.notifications.masking import mask_text
from statemachine.ports import TransientPaymentError


def mark_run(order_id: str, kind: str, *extra: str) -> list[str]:
    """Add `order:<id>`, `kind:<kind>` (and any extra tags) to the current flow run."""
    wanted = {f"order:{order_id}", f"kind:{kind}", *extra}
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run.id)
        tags = sorted(set(run.tags) | wanted)
        client.update_flow_run(run.id, tags=tags)
    return tags


def order_artifact(order_id: str, markdown: str, description: str) -> None:
    """A markdown artifact under the order's key (`order-o-42`): one timeline per order, with
    phones, IPs and e-mails a buyer may have typed into a reason masked."""
    create_markdown_artifact(key=f"order-{order_id}", markdown=mask_text(markdown),
                             description=description)


def report(order_id: str, outcome: str, detail: str) -> str:
    """Log and return the run's outcome (`approved`, `already decided`, `escalated`, ...)."""
    get_run_logger().info("%s: %s (%s)", order_id, outcome, detail)
    order_artifact(order_id, f"**{outcome}** — {detail}", f"{order_id}: {outcome}")
    return outcome


def paused_runs(order_id: str, kind: str) -> list[object]:
    """This order's runs of `kind` that wait for a person's input."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    query = FlowRunFilter(tags=FlowRunFilterTags(all_=[f"order:{order_id}", f"kind:{kind}"]),
                          state=FlowRunFilterState(type=FlowRunFilterStateType(
                              any_=[StateType.PAUSED])))
    with get_client(sync_client=True) as client:
        return list(client.read_flow_runs(flow_run_filter=query))


def add_tags(run: object, *tags: str) -> None:
    """Add tags to another flow run (e.g. `escalated` on a paused review)."""
    with get_client(sync_client=True) as client:
        client.update_flow_run(run.id, tags=sorted(set(run.tags) | set(tags)))  # type: ignore[attr-defined]


def transient_only(task: object, run: object, state: object) -> bool:
    """A task retry condition: retry network trouble only; domain errors are final."""
    try:
        state.result()  # type: ignore[attr-defined]
    except (ConnectionError, TimeoutError, TransientPaymentError):
        return True
    except Exception:  # a domain or programming error: do not retry
        return False
    return False
