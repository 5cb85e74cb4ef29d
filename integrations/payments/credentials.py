"""The payment settings every process uses — the API, the CLI, the flows, the console: the
environment (ORDERPILOT_PAYMENTS_*), and each credential it lacks read from the secret block
named for it in ORDERPILOT_PAYMENTS_SECRET_BLOCKS. Reading a block is the caller's `load`
(flows.wiring.secret_block: Prefect's Secret blocks), so this layer imports no Prefect: `load`
raises ValueError for a block that is not there, `BlocksUnreachable` when the server holding
the blocks cannot be asked — each turned into an error naming the setting and the block."""

from __future__ import annotations

from collections.abc import Callable

from integrations.config import read_settings
from integrations.payments.settings import PaymentSettings
from statemachine.errors import InvalidInput, SecretsUnavailable

BLOCKS = "ORDERPILOT_PAYMENTS_SECRET_BLOCKS"


class BlocksUnreachable(Exception):
    """The server holding the secret blocks did not answer, or refused us (raised by `load`).
    `where`: the server asked; `reason`: what happened; `remedy`: what to do about it."""

    def __init__(self, where: str, reason: str, remedy: str):
        self.where, self.reason, self.remedy = where, reason, remedy
        super().__init__(f"{where}: {reason}")


def read_payment_settings(load: Callable[[str], str] | None) -> PaymentSettings:
    """The settings, with the credentials the environment does not set read by `load` (the
    environment wins; no block is read when it sets them all). Without `load`, a credential
    kept only in a block is refused naming the variable."""
    return payment_settings_reader(load)()


class SettingsReader:
    """The payment settings, read when called (the secret blocks read then, at each call);
    `provider`, the provider's name, known from the environment without them."""

    def __init__(self, provider: str, read: Callable[[], PaymentSettings]):
        self.provider, self._read = provider, read

    def __call__(self) -> PaymentSettings:
        return self._read()


def payment_settings_reader(load: Callable[[str], str] | None) -> SettingsReader:
    """`read_payment_settings(load)` in two steps: the environment read and checked now (the
    same errors), the blocks read when the returned reader is called (at each call)."""
    settings = read_settings(PaymentSettings)
    unknown = sorted(set(settings.secret_blocks) - set(PaymentSettings.model_fields))
    if unknown:
        raise InvalidInput({BLOCKS: f"names unknown settings: {unknown}"})
    wanted = {name: block for name, block in settings.secret_blocks.items()
              if getattr(settings, name) is None}
    if not wanted:
        return SettingsReader(settings.provider, lambda: settings)
    if load is None:
        raise InvalidInput({BLOCKS: f"{sorted(wanted)}: this process reads no secret blocks; "
                                    "set them in the environment"})

    def with_blocks() -> PaymentSettings:
        values = {name: _read_block(load, name, block) for name, block in wanted.items()}
        return read_settings(PaymentSettings, **(settings.model_dump() | values))

    return SettingsReader(settings.provider, with_blocks)


def _read_block(load: Callable[[str], str], name: str, block: str) -> str:
    try:
        return load(block)
    except ValueError as error:  # Prefect: no block of that name (or not a Secret block)
        raise InvalidInput({BLOCKS: f"{name}: the Prefect Secret block {block!r} could not be "
                                    f"read ({error})"}) from None
    except BlocksUnreachable as error:  # an outage, not a setting to fix: say where and why
        variable = f"ORDERPILOT_PAYMENTS_{name.upper()}"
        raise SecretsUnavailable(name, block, error.where, error.reason,
                                 f"{error.remedy}, or set {variable} in the environment"
                                 ) from error
