"""A lifecycle declared once, as data, and run on one shared `transitions` machine.

Each lifecycle (order, shipment, after-sales case) is a table of `Step`s. `Lifecycle` builds a
single `transitions.Machine` from it and never keeps an aggregate registered, so a million
orders cost no more memory than one.

Why `Event.trigger(model)` and not `add_model` / `remove_model` around each fire: measured
here, registering and unregistering a model costs ~225 µs (it binds a method per trigger and
per state onto the object), while the transition itself costs ~10 µs. Our aggregates use no
per-model callbacks (`on_enter_<state>` methods), so the machine's own event dispatch is
exactly what `add_model` would have reached, without the binding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from transitions import Machine

from statemachine.errors import GuardRejected, InvalidTransition

Guard = Callable[[Any, Mapping[str, Any]], str | None]
"""A guard returns None to allow the step, or a sentence saying why it refuses."""

Effect = Callable[[Any, Mapping[str, Any]], dict[str, Any] | None]
"""An effect changes the aggregate only; what it returns goes into the history payload."""


@dataclass(frozen=True, slots=True)
class Step:
    trigger: str
    sources: tuple[StrEnum, ...]
    dest: StrEnum | None  # None: an internal step that records history but keeps the state
    guards: tuple[Guard, ...] = ()
    effect: Effect | None = None
    event: str | None = None  # event name; defaults to the destination state


@dataclass(frozen=True, slots=True)
class Fired:
    """What one successful fire did: the row that goes into history and the outbox."""

    entity: str
    entity_id: str
    trigger: str
    from_state: str | None
    to_state: str
    event: str
    at: datetime
    actor: str
    payload: dict[str, Any] = field(default_factory=dict)


class Lifecycle:
    """One machine definition for every aggregate of a kind; `fire` is the only way to move."""

    def __init__(self, entity: str, states: type[StrEnum], initial: StrEnum,
                 steps: Sequence[Step]):
        self.entity, self.states, self.initial, self.steps = entity, states, initial, tuple(steps)
        self._allowed = _allowed_table(self.steps)
        self._machine = Machine(model=None, states=list(states), initial=initial,
                                auto_transitions=False, send_event=True,
                                ignore_invalid_triggers=False)
        for step in self.steps:
            self._machine.add_transition(
                step.trigger, list(step.sources), step.dest if step.dest else None,
                conditions=[_as_condition(g) for g in step.guards],
                after=[_as_after(step)],
            )

    @property
    def triggers(self) -> list[str]:
        return list(dict.fromkeys(step.trigger for step in self.steps))

    def allowed(self, state: StrEnum | str) -> list[str]:
        """Triggers that may be fired from `state` (guards may still refuse them)."""
        return list(self._allowed.get(self.states(state), ()))

    def can(self, state: StrEnum | str, trigger: str) -> bool:
        return trigger in self._allowed.get(self.states(state), ())

    def fire(self, model: Any, trigger: str, *, at: datetime, actor: str,
             **ctx: Any) -> Fired:
        """Run one trigger on `model`; InvalidTransition / GuardRejected leave it unchanged."""
        before = self.states(model.state)
        if trigger not in self._allowed.get(before, ()):
            raise InvalidTransition(self.entity, model.public_id, before.value, trigger,
                                    self.allowed(before))
        model.refusal, model.step_payload = None, {}
        done = self._machine.events[trigger].trigger(model, at=at, actor=actor, **ctx)
        if not done:
            model.state = before
            raise GuardRejected(self.entity, model.public_id, before.value, trigger,
                                model.refusal or "a guard refused")
        return self._record(model, trigger, before, at, actor)

    def _record(self, model: Any, trigger: str, before: StrEnum, at: datetime,
                actor: str) -> Fired:
        after = self.states(model.state)
        step = next(s for s in self.steps if s.trigger == trigger and before in s.sources
                    and (s.dest or before) == after)
        event = step.event or after.value
        return Fired(self.entity, model.public_id, trigger, before.value, after.value,
                     event, at, actor, dict(model.step_payload))

    def mermaid(self) -> str:
        """The lifecycle as a Mermaid state diagram, generated from the step table."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for step in self.steps:
            for source in step.sources:
                dest = step.dest or source
                lines.append(f"    {source.value} --> {dest.value}: {step.trigger}")
        for state in self.states:
            if not self.allowed(state):
                lines.append(f"    {state.value} --> [*]")
        return "\n".join(lines)


def _allowed_table(steps: Iterable[Step]) -> dict[StrEnum, tuple[str, ...]]:
    table: dict[StrEnum, list[str]] = {}
    for step in steps:
        for source in step.sources:
            names = table.setdefault(source, [])
            if step.trigger not in names:
                names.append(step.trigger)
    return {state: tuple(names) for state, names in table.items()}


def _as_condition(guard: Guard) -> Callable[[Any], bool]:
    def condition(event: Any) -> bool:
        refusal = guard(event.model, event.kwargs)
        if refusal is not None:
            event.model.refusal = refusal
        return refusal is None

    condition.__name__ = guard.__name__
    return condition


def _as_after(step: Step) -> Callable[[Any], None]:
    def after(event: Any) -> None:
        if step.effect is not None:
            event.model.step_payload = step.effect(event.model, event.kwargs) or {}

    return after
