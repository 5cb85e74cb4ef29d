"""orderpilot: the order lifecycle of an e-commerce shop as persisted state machines."""

from orderpilot.api import OrderPilot
from statemachine.clock import ManualClock
from statemachine.errors import (
    ConcurrentUpdate,
    Contention,
    GuardRejected,
    InsufficientStock,
    InvalidInput,
    InvalidTransition,
    NotFound,
    OrderPilotError,
    SchemaMismatch,
    SecretsUnavailable,
    StoreUnavailable,
    UnitsInOpenCase,
)

__all__ = [
    "ConcurrentUpdate", "Contention", "GuardRejected", "InsufficientStock", "InvalidInput",
    "InvalidTransition", "ManualClock", "NotFound", "OrderPilot", "OrderPilotError",
    "SchemaMismatch", "SecretsUnavailable", "StoreUnavailable",
    "UnitsInOpenCase",
]
