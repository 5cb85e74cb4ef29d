"""How input at the edge is checked, for every command's model (service/inputs.py) and for
the values a caller passes alone (an id, an actor, a time): the `Edge` base model, the field
types every command shares, and errors that name the field the way a caller wrote it
(`lines[0].quantity`) and say what was expected.

Lengths come from `statemachine.limits`, the same constants the columns are declared with; text
no store can hold (NUL, lone surrogates) is refused in every field; money and quantities are
strict integers (`true`, `"1999"` and `1999.0` are refused, not coerced); currencies must be
ISO 4217 codes of money a buyer pays in (not XTS, XXX, metals, units of account, fund codes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from integrations.currencies import shop_currency_problem
from statemachine import ids, limits
from statemachine.errors import InvalidInput

NAME = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"

M = TypeVar("M", bound=BaseModel)


def _shop_currency(code: str) -> str:
    """The one check of an order's currency, for every entry (API, HTTP, events, imports)."""
    problem = shop_currency_problem(code)
    if problem:
        raise PydanticCustomError("currency", problem)
    return code


# Text we send a payment provider as an identifier: a refund key (Stripe's Idempotency-Key, an
# HTTP header the SDK encodes latin-1; Alipay's out_request_no), a payment id (the key of a late
# payment's refund carries it). A Chinese key failed in the Stripe SDK with UnicodeEncodeError,
# was answered pending and retried by the sweep for ever: checked here, at the edge, instead.
PROVIDER_REF = re.compile(r"[\x21-\x7e]{1," + str(limits.REF) + "}")


def provider_ref_expected(sent_as: str) -> str:
    return (f"expected 1–{limits.REF} printable ASCII characters, no spaces (it is sent to "
            f"the provider as {sent_as})")


def provider_ref_problem(field: str, value: Any, sent_as: str) -> dict[str, str]:
    """{field: what is expected} unless `value` (None: not given) may go to a provider."""
    if value is None or isinstance(value, str) and PROVIDER_REF.fullmatch(value):
        return {}
    return {field: f"{provider_ref_expected(sent_as)} (got {str(value)[:40]!r})"}


def _provider_ref(value: str) -> str:
    if problem := limits.unstorable(value):  # the store's own reason first (a NUL, …)
        raise PydanticCustomError("unstorable", problem)
    if not PROVIDER_REF.fullmatch(value):
        raise PydanticCustomError("provider_ref", provider_ref_expected(
            "part of the refund's idempotency key"))
    return value


# a provider's payment id as a caller reports it (Stripe pi_…, Alipay's trade number)
PaymentRef = Annotated[str, Field(min_length=1, max_length=limits.REF),
                       AfterValidator(_provider_ref)]

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. CNY"),
                     AfterValidator(_shop_currency)]


def _utc_holds(value: datetime) -> datetime:
    """The store binds every time in UTC: a time whose UTC instant is outside years 1–9999
    (year 1 at +14:00, 31 Dec 9999 at -12:00) cannot be stored."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("utc_range", "expected a time whose UTC instant falls in "
                                  "years 1–9999") from None
    return value


When = Annotated[AwareDatetime, AfterValidator(_utc_holds)]  # aware, and storable in UTC
Money = Annotated[int, Strict()]  # minor units; a bool, a string or a float is refused
Count = Annotated[int, Strict()]


class Edge(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """Every text, however nested, must be something a store can keep and a person can
        read (not only zero-width characters)."""
        for text in _texts(value):
            problem = limits.unstorable(text) or limits.invisible(text)
            if problem:
                raise PydanticCustomError("unstorable", problem)
        return value


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [t for item in value for t in _texts(item)]
    return []

def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate `data` against `model`; raise InvalidInput naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput({_where(e["loc"]): _what(e) for e in error.errors()}) from None


def trigger_params(trigger: str, known: Sequence[str], models: dict[str, type[Edge]],
                   default: type[Edge], params: dict[str, Any]) -> dict[str, Any]:
    """Check the trigger name against `known`, then its params against the trigger's model."""
    if trigger not in known:
        raise InvalidInput({"trigger": f"expected one of {', '.join(known)} (got {trigger!r})"})
    model = models.get(trigger, default)
    if not params and _all_optional(model):
        return {}  # nothing to check: every field would be None and dropped
    return parse(model, params).model_dump(exclude_none=True)


@cache
def _all_optional(model: type[Edge]) -> bool:
    return not any(f.is_required() for f in model.model_fields.values())


def parse_id(field: str, value: Any, prefix: str) -> int:
    """`o-42` → 42 (ASCII digits only: `o-١` is refused); else InvalidInput naming the field."""
    return ids.BY_PREFIX[prefix].parse(value, field)


def check_text(field: str, value: Any, max_length: int, *, what: str = "text") -> str:
    """A non-empty text of at most `max_length` characters that the store can keep."""
    if not isinstance(value, str) or not 0 < len(value.strip()) <= max_length:
        raise InvalidInput({field: f"expected {what} of 1–{max_length} characters "
                                   f"(got {_shown(value)})"})
    problem = limits.unstorable(value) or limits.invisible(value.strip())
    if problem:
        raise InvalidInput({field: problem})
    return value


def check_actor(actor: Any) -> str:
    if type(actor) is str:  # hashable: a name checked before is known good
        return _checked_actor(actor)
    return check_text("actor", actor, limits.ACTOR, what="a name")


@lru_cache(maxsize=256)
def _checked_actor(actor: str) -> str:
    """`check_text` of an actor, kept: the check is a function of the text alone, and the
    same few names come with every call ("api", "carrier:sf-express"), each checked
    character by character (its Unicode category) on every call. A refusal is not kept
    (lru_cache keeps no exception): a bad name is refused each time."""
    return check_text("actor", actor, limits.ACTOR, what="a name")


def check_when(field: str, value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput({field: f"expected a timezone-aware datetime (got {value!r})"})
    try:
        return _utc_holds(value)
    except PydanticCustomError as error:
        raise InvalidInput({field: f"{error.message()} (got {value!r})"}) from None


def _where(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "input"


def _what(error: dict[str, Any]) -> str:
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) else f" (got {_shown(got)})"
    return f"{error['msg']}{shown}" if error["type"] != "missing" else "field required"


def _shown(value: Any) -> str:
    """A bad value as an error message may show it: short (a 10 kB reason is not echoed)."""
    text = repr(value)
    if len(text) <= 80:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else "long"
    return f"{text[:60]}… ({size})"
