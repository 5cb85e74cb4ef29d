"""The payment settings every process uses — the API, the CLI, the flows, the console: the
environment (ORDERPILOT_PAYMENTS_*), and each credential it lacks read from the secret block
named for it in ORDERPILOT_PAYMENTS_SECRET_BLOCKS. Reading a block is the caller's `load`
(flows.wiring.secret_block: Prefect's Secret blocks), so this layer imports no Prefect."""

from __future__ import annotations

from collections.abc import Callable

from integrations.config import read_settings
from integrations.payments.settings import PaymentSettings
from statemachine.errors import InvalidInput

BLOCKS = "ORDERPILOT_PAYMENTS_SECRET_BLOCKS"


def read_payment_settings(load: Callable[[str], str] | None) -> PaymentSettings:
    """The settings, with the credentials the environment does not set read by `load` (the
    environment wins; no block is read when it sets them all). Without `load`, a credential
    kept only in a block is refused naming the variable."""
    settings = read_settings(PaymentSettings)
    unknown = sorted(set(settings.secret_blocks) - set(PaymentSettings.model_fields))
    if unknown:
        raise InvalidInput({BLOCKS: f"names unknown settings: {unknown}"})
    wanted = {name: block for name, block in settings.secret_blocks.items()
              if getattr(settings, name) is None}
    if not wanted:
        return settings
    if load is None:
        raise InvalidInput({BLOCKS: f"{sorted(wanted)}: this process reads no secret blocks; "
                                    "set them in the environment"})
    values = {name: _read_block(load, name, block) for name, block in wanted.items()}
    return read_settings(PaymentSettings, **(settings.model_dump() | values))


def _read_block(load: Callable[[str], str], name: str, block: str) -> str:
    try:
        return load(block)
    except ValueError as error:  # Prefect: no block of that name (or not a Secret block)
        raise InvalidInput({BLOCKS: f"{name}: the Prefect Secret block {block!r} could not be "
                                    f"read ({error})"}) from None
