"""Post-transition hooks: small functions run after an order or case transition is recorded,
inside the same transaction (risk uses them for credit events and review tasks)."""

from __future__ import annotations

from typing import Any, Protocol

from statemachine.lifecycle import Fired


class TransitionHook(Protocol):
    """Called with the aggregate after the change and what fired; may write in `tx`."""

    def __call__(self, ctx: Any, tx: Any, aggregate: Any, fired: Fired) -> None: ...


def after_transition(ctx: Any, tx: Any, aggregate: Any, fired: Fired) -> None:
    """Run every hook the context carries, in order."""
    for hook in ctx.hooks:
        hook(ctx, tx, aggregate, fired)


def after_transitions(ctx: Any, tx: Any, moved: list[tuple[Any, Fired]]) -> None:
    """The bulk paths' version: a hook with a `many` method takes the whole batch at once."""
    for hook in ctx.hooks:
        many = getattr(hook, "many", None)
        if many is not None:
            many(ctx, tx, moved)
        else:
            for aggregate, fired in moved:
                hook(ctx, tx, aggregate, fired)
