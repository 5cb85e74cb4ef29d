"""Domain errors: one class per case, each carrying what a person needs to act on it."""

from __future__ import annotations

from collections.abc import Sequence


class OrderPilotError(Exception):
    """Base of every error orderpilot raises on purpose. `code` is stable for callers."""

    code = "orderpilot_error"


class InvalidInput(OrderPilotError, ValueError):
    """Input was rejected before anything was written; `problems` maps field → what was expected."""

    code = "invalid_input"

    def __init__(self, problems: dict[str, str]):
        self.problems = dict(problems)
        detail = "; ".join(f"{field}: {msg}" for field, msg in self.problems.items())
        super().__init__(f"invalid input: {detail}")


class NotFound(OrderPilotError, LookupError):
    code = "not_found"

    def __init__(self, entity: str, entity_id: str):
        self.entity, self.entity_id = entity, entity_id
        super().__init__(f"{entity} {entity_id} does not exist")


class InvalidTransition(OrderPilotError):
    """The trigger is not allowed from the current state. Nothing was changed."""

    code = "invalid_transition"

    def __init__(self, entity: str, entity_id: str, state: str, trigger: str,
                 allowed: Sequence[str], none: str = "none (final state)"):
        self.entity, self.entity_id, self.state = entity, entity_id, state
        self.trigger, self.allowed = trigger, list(allowed)
        allowed_text = ", ".join(self.allowed) or none
        super().__init__(
            f"{entity} {entity_id} cannot {trigger} from {state}; allowed: {allowed_text}"
        )


class GuardRejected(OrderPilotError):
    """The trigger is allowed from this state but a guard refused it; `reason` says why."""

    code = "guard_rejected"

    def __init__(self, entity: str, entity_id: str, state: str, trigger: str, reason: str):
        self.entity, self.entity_id, self.state = entity, entity_id, state
        self.trigger, self.reason = trigger, reason
        super().__init__(f"{entity} {entity_id} cannot {trigger} from {state}: {reason}")


class UnitsInOpenCase(GuardRejected):
    """A new after-sales case names units another case of the order still has open: one case
    per unit at a time (a second one could refund or take back the same goods twice). The
    open case must end first — refunded, closed or rejected."""

    code = "units_in_open_case"

    def __init__(self, order_id: str, state: str, busy: Sequence[str], cases: Sequence[str]):
        self.order_id, self.busy, self.cases = order_id, list(busy), list(cases)
        super().__init__("order", order_id, state, "open_case",
                         f"units already in an open after-sales case ({'; '.join(busy)}): "
                         "wait for that case to end, or close it, before opening another "
                         "on them")


class ConcurrentUpdate(OrderPilotError):
    """Someone else changed the entity since it was read; the write was rolled back."""

    code = "concurrent_update"

    def __init__(self, entity: str, entity_id: str, expected_version: int):
        self.entity, self.entity_id = entity, entity_id
        self.expected_version = expected_version
        super().__init__(
            f"{entity} {entity_id} was changed by someone else (expected version "
            f"{expected_version}); nothing was written, reload and retry"
        )


class InsufficientStock(OrderPilotError):
    """No allocation can serve the order; nothing was reserved."""

    code = "insufficient_stock"

    def __init__(self, sku: str, requested: int, available: int, lines: int = 1):
        self.sku, self.requested, self.available = sku, requested, available
        over = f" over {lines} lines" if lines > 1 else ""
        super().__init__(f"sku {sku}: {requested} requested{over}, only {available} available")


class Contention(OrderPilotError):
    """Concurrent writers kept colliding (deadlock, serialization failure, a lock wait that
    ran out) and the command was retried until its budget ran out; nothing was written. Safe
    to retry later."""

    code = "contention"

    def __init__(self, what: str, attempts: int, cause: str):
        self.what, self.attempts, self.cause = what, attempts, cause
        super().__init__(
            f"{what} collided with concurrent writers {attempts} time(s) ({cause}); nothing "
            "was written, try again")


class StoreUnavailable(OrderPilotError):
    """The store could not be opened or reached (bad URL, server down, unreadable file)."""

    code = "store_unavailable"

    def __init__(self, where: str, reason: str):
        self.where, self.reason = where, reason
        super().__init__(f"the store at {where} is not available: {reason}")


class SecretsUnavailable(OrderPilotError):
    """A credential kept in a secret store (a Prefect Secret block) could not be read: the
    store did not answer, or refused us. Nothing was sent to the provider: a payment operation
    recorded before the read (a refund a decision asked for) stays pending and the money sweep
    pays it once the store answers; safe to retry. `.remedy` says what to do."""

    code = "secrets_unavailable"

    def __init__(self, setting: str, block: str, where: str, reason: str, remedy: str):
        self.setting, self.block, self.where = setting, block, where
        self.reason, self.remedy = reason, remedy
        super().__init__(
            f"the payment setting {setting} is kept in the Prefect Secret block {block!r} "
            f"(ORDERPILOT_PAYMENTS_SECRET_BLOCKS), which could not be read from {where}: "
            f"{reason}; {remedy}")


class SchemaMismatch(OrderPilotError):
    """The store's schema is not the one this orderpilot expects (empty, behind, upgraded by a
    newer orderpilot, or changed by hand): a deployment to fix, not an outage to wait out.
    `.remedy` says what to do (for a schema behind: `orderpilot db upgrade`)."""

    code = "schema_mismatch"

    def __init__(self, where: str, found: str | None, expected: str | None, detail: str,
                 remedy: str):
        self.where, self.found, self.expected = where, found, expected
        self.detail, self.remedy = detail, remedy
        super().__init__(
            f"the store at {where} does not have the schema this orderpilot expects ({detail}): "
            f"it is at revision {found or 'none'}, expected {expected}; {remedy}")
