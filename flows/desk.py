"""The console's case desk: opens a person's case as a suspended run with its form, applies
the answer when the run is resumed, closes the run when the case is settled anywhere else —
all through the Prefect API, without a process per case."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun, StateType

from flows import case_runs
from flows.artifacts import Shelf
from flows.cases import KINDS
from flows.naming import named, shop_of, shop_tags
from integrations.console import casefiles
from integrations.console.casework import OpenCase, open_case
from integrations.console.decisions import ALREADY_DECIDED
from integrations.console.jobs import Ports
from integrations.events.identity import store_id
from integrations.service.context import Context
from statemachine.errors import OrderPilotError
from statemachine.ports import Message

log = logging.getLogger("orderpilot.console")
# Prefect's pause timeout is in whole seconds: a form with less left than this would be
# answerable past its case's due date
LEAST_ANSWERABLE = timedelta(seconds=1)
# the tag of a run closed at once because its case's form could no longer be answered: the
# case episode's one run, left as it is by every later open (the re-drive, a new outbox row)
LAPSED = "lapsed"


class Desk:
    """Case runs for one store. `deployments` maps each case kind to its deployment id. Runs,
    case files and form artifacts are named for the store's shop (ORDERPILOT_SHOP), if any."""

    def __init__(self, ctx: Context, ports: Ports, deployments: dict[str, UUID],
                 shelf: Shelf | None = None):
        self.ctx, self.ports, self.deployments = ctx, ports, deployments
        self.store_tag = f"store:{store_id(ctx)}"
        self.shop = shop_of(ctx)
        self.own_tags = [self.store_tag, *shop_tags(self.shop)]
        self.kind_of = {dep: kind for kind, dep in deployments.items()}
        self.shelf = shelf or Shelf()
        self.counts: Counter[str] = Counter()

    def open(self, client: SyncPrefectClient, case: OpenCase) -> tuple[FlowRun, bool]:
        """The case's run, suspended with its form, created once per case episode; True when
        this call created it and its form now waits for a person — a run closed at once (its
        case lapsed since it was read) or that could not be suspended is not an opened one."""
        spec, dead = KINDS[case.kind], 0
        while True:
            key = f"{case.kind}:{case.episode}" + (f":{dead + 1}" if dead else "")
            run = case_runs.create_run(client, self.deployments[case.kind],
                                       name=named(self.shop, spec.run_name(case)),
                                       parameters=spec.parameters(case),
                                       tags=[*spec.tags(case), *self.own_tags],
                                       key=f"{self.store_tag}:{key}")
            if run.state is None or not run.state.is_final():
                break
            if LAPSED in run.tags:  # closed by us, its form unanswerable: the episode's run
                return run, False
            dead += 1  # an earlier run of this episode ended (cancelled by hand, crashed)
        fresh = run.state is not None and run.state.is_running() and \
            not run.empirical_policy.pause_keys
        return run, fresh and self._ask(client, run, case)

    def close(self, client: SyncPrefectClient, kind: str, entity: str, why: str) -> int:
        """End every waiting run of the case: it was settled elsewhere (or is gone). A run
        being handled right now (Running) is left to its handler."""
        runs = self.runs(client, [f"kind:{kind}", f"entity:{entity}"],
                         [StateType.PAUSED, StateType.SCHEDULED])
        for run in runs:
            case_runs.close(client, run.id, f"closed: {why}")
        self.counts["closed"] += len(runs)
        return len(runs)

    def escalate(self, client: SyncPrefectClient, kind: str, entity: str, order_id: str) -> int:
        """Tag the waiting runs `escalated` and tell the staff; the form stays open."""
        runs = self.runs(client, [f"kind:{kind}", f"entity:{entity}"], [StateType.PAUSED])
        for run in runs:
            case_runs.add_tags(client, run, "escalated")
        if runs:
            self.ports.notify(Message(
                "orderpilot.console.escalated", "ops", f"{kind} of {entity} is overdue",
                f"{kind} of {entity} ({order_id}) passed its deadline; it is still waiting in "
                "the console.", order_id))
        return len(runs)

    def refresh(self, client: SyncPrefectClient, kind: str, entity: str, why: str) -> int:
        """Write the waiting runs' description again (an address corrected under a review:
        the form described the address as placed); the form and its answers stay."""
        case = open_case(self.ctx, kind, entity)
        if case is None:
            return 0
        runs = self.runs(client, [f"kind:{kind}", f"entity:{entity}"], [StateType.PAUSED])
        spec = KINDS[kind]
        for run in runs:
            description = spec.describe(self.ctx, case, self.ctx.clock.now())
            if key := spec.artifact_key(case):
                self.shelf.keep(client, named(self.shop, key), "markdown", description,
                                f"{case.entity}: what a person confirms", run.id)
            case_runs.redescribe(client, run, f"> **Updated:** {why}.\n\n{description}")
            case_runs.note(client, run.id, f"{kind} of {entity}: {why}")
            self.publish_timeline(client, case.order_id, run.id)
        return len(runs)

    def tell(self, client: SyncPrefectClient, kind: str, entity: str, order_id: str,
             outcome: str) -> None:
        """What an automation job did about a case, where its people look: a line in the log
        of each of the case's runs (an approval's run is closed by then: the answer lands
        under it) and the order's case file published again (the case's state now)."""
        runs = self.runs(client, [f"kind:{kind}", f"entity:{entity}"])
        for run in runs:
            case_runs.note(client, run.id, f"{kind} of {entity}: {outcome}")
        self.publish_timeline(client, order_id, runs[-1].id if runs else None)

    def runs(self, client: SyncPrefectClient, tags: list[str],
             states: list[StateType] | None = None) -> list[FlowRun]:
        """This store's case runs with all `tags` (in `states`)."""
        return case_runs.runs_tagged(client, [self.store_tag, *tags], states)

    def answered(self, client: SyncPrefectClient) -> list[FlowRun]:
        """This store's case runs waiting to be handled: resumed, or started by hand on its
        deployments — and resumed runs it opened under earlier names, on other deployments
        (before the store was given a shop name, or another one). Another store's run is never
        among them, even on deployments two stores without a shop name share: its answer is
        for that store's order `o-1`, not this one's."""
        runs = case_runs.scheduled_runs(client, list(self.deployments.values()))
        renamed = [run for run in case_runs.runs_tagged(client, [self.store_tag],
                                                        [StateType.SCHEDULED])
                   if run.deployment_id not in self.kind_of and _kind_tag(run) in KINDS]
        return [run for run in runs if self.store_tag in run.tags or
                not any(tag.startswith("store:") for tag in run.tags)] + renamed

    def handle(self, client: SyncPrefectClient, run: FlowRun) -> str:
        """A scheduled case run: resumed with an answer, or started by hand."""
        kind = self.kind_of.get(run.deployment_id) or _kind_tag(run)  # or an earlier name's
        entity = run.parameters.get(KINDS[kind].entity_param, "")
        if not case_runs.take(client, run):
            return "taken by someone else"
        if not run.empirical_policy.pause_keys:
            return self._adopt(client, run, kind, entity)
        answer = case_runs.answer_of(client, run)
        if answer is None:
            return self._ask_again(client, run, kind, entity, "resumed without an answer")
        return self._apply(client, run, kind, entity, answer)

    def publish_timeline(self, client: SyncPrefectClient, order_id: str,
                         run_id: UUID | None = None) -> None:
        """The order's case file under `order-o-<n>` (`staging-order-o-<n>` for a named
        shop), in the shop's time zone."""
        self.shelf.keep(client, named(self.shop, f"order-{order_id}"), "markdown",
                        casefiles.timeline(self.ctx, order_id),
                        f"{order_id}: the whole timeline", run_id)

    def _apply(self, client: SyncPrefectClient, run: FlowRun, kind: str, entity: str,
               answer: dict[str, object]) -> str:
        case_runs.note(client, run.id, "answer: " + ", ".join(
            f"{k}={v}" for k, v in answer.items()))
        try:
            outcome = KINDS[kind].apply(self.ctx, self.ports, entity, answer)
        except ALREADY_DECIDED as error:
            outcome = f"already decided elsewhere: {error}"
        except OrderPilotError as error:  # a person can fix it: ask again, saying why
            return self._ask_again(client, run, kind, entity, str(error))
        except Exception as error:  # a bug or an outside system down: visible, never silent
            log.exception("applying %s answer on %s failed", kind, entity)
            case_runs.close(client, run.id, f"failed: {error}", failed=True)
            self.counts["failed"] += 1
            return f"failed: {error}"
        still = open_case(self.ctx, kind, entity)
        if still is not None and f"episode:{still.episode}" in run.tags:
            # done, and the case still waits (a parcel chased again is still silent): the
            # same run asks again, saying what was done — no new run, no gap in the queue
            self._ask(client, client.read_flow_run(run.id), still,
                      f"> **Done:** {outcome}. It still waits: choose again when needed.")
            self.counts["acted, still open"] += 1
            return outcome
        case_runs.close(client, run.id, outcome)
        self.counts["decided"] += 1
        self.publish_timeline(client, run.parameters["order_id"], run.id)
        return outcome

    def _adopt(self, client: SyncPrefectClient, run: FlowRun, kind: str, entity: str) -> str:
        case = open_case(self.ctx, kind, entity)
        if case is None:
            case_runs.close(client, run.id, f"nothing to do: {entity} needs no {kind}")
            return "nothing to do"
        others = [r for r in self.runs(client, [f"episode:{case.episode}"], case_runs.LIVE)
                  if r.id != run.id]
        if others:
            case_runs.close(client, run.id, f"duplicate: {others[0].name} is open")
            return "duplicate"
        case_runs.add_tags(client, run, *KINDS[kind].tags(case), *self.own_tags)
        return "opened" if self._ask(client, client.read_flow_run(run.id), case) \
            else "closed at once: nothing left to answer"

    def _ask(self, client: SyncPrefectClient, run: FlowRun, case: OpenCase,
             banner: str = "") -> bool:
        """Suspend the run with the case's form; `banner` (markdown) goes above the case;
        whether the form now waits for a person. A form that would lapse within a second (the
        case read as open, its due date passed since) is not shown: the run is closed saying
        why (False); so is a run that could not be suspended (no longer running)."""
        spec, now = KINDS[case.kind], self.ctx.clock.now()
        if spec.prepare is not None:
            spec.prepare(self.ctx, case.entity)
        description = spec.describe(self.ctx, case, now)
        if key := spec.artifact_key(case):
            self.shelf.keep(client, named(self.shop, key), "markdown", description,
                            f"{case.entity}: what a person confirms", run.id)
        if banner:
            description = f"{banner}\n\n{description}"
        left = spec.timeout(case, self.ctx.clock.now())  # read last: the pause starts now
        if left is not None and left < LEAST_ANSWERABLE:
            why = spec.why_gone(self.ctx, case.entity) if spec.why_gone else "it lapsed"
            case_runs.add_tags(client, run, LAPSED)  # before the close: the tag marks it final
            case_runs.close(client, run.id, f"closed: {why}")
            return False
        waits = case_runs.suspend_with_form(client, run, spec.form, description, left)
        if waits:
            case_runs.note(client, run.id, f"{case.kind} of {case.entity} ({case.order_id}): "
                           f"{'; '.join(case.reasons)} — waiting for a person"
                           + (f" ({banner.lstrip('> ')})" if banner else ""))
        self.publish_timeline(client, case.order_id, run.id)
        return waits

    def _ask_again(self, client: SyncPrefectClient, run: FlowRun, kind: str, entity: str,
                   why: str) -> str:
        case = open_case(self.ctx, kind, entity)
        if case is None:
            case_runs.close(client, run.id, f"already settled elsewhere ({why})")
            return "already settled"
        self._ask(client, client.read_flow_run(run.id), case,
                  f"> **Your last answer was not applied:** {why}")
        self.counts["asked again"] += 1
        return f"asked again: {why}"


def _kind_tag(run: FlowRun) -> str:
    return next((t.removeprefix("kind:") for t in run.tags if t.startswith("kind:")), "")
