"""Idempotency keys: the same key applies once; a repeat returns the first result.

A key is bound to what it was first used for: the action, the entity and a digest of the
request itself (the placement or case request; a step's checked parameters), so a key reused
for a different body is refused instead of silently answering with the first one — a payment
retried under its key with another amount would otherwise be told it was applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from integrations.db.errors import is_integrity_error
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from statemachine import limits
from statemachine.errors import ConcurrentUpdate, InvalidInput

T = TypeVar("T")


class KeyReused(InvalidInput):
    """The idempotency key was already used for a different request; nothing was done."""

    def __init__(self, key: str, used_for: str):
        self.key = key
        super().__init__({"idempotency_key": f"{key!r} was already used for {used_for}"})


def check_key(key: Any) -> str | None:
    """An idempotency key given to the Python API: None, or 1–200 characters."""
    if key is not None and (not isinstance(key, str)
                            or not 0 < len(key) <= limits.IDEMPOTENCY_KEY):
        raise InvalidInput({"idempotency_key": f"expected 1–{limits.IDEMPOTENCY_KEY} characters "
                                               f"(got {key!r})"})
    return key


def request_digest(request: BaseModel) -> str:
    """What a create request asked for (its idempotency key aside), as a short digest."""
    body = request.model_dump_json(exclude={"idempotency_key"})
    return hashlib.sha256(body.encode()).hexdigest()


def params_digest(params: Mapping[str, Any]) -> str:
    """What a step was asked to do (its checked parameters, in any key order), as a digest."""
    body = orjson.dumps(params, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(body).hexdigest()


def replay_or_none(tx: Tx, key: str, action: str, target: int | None,
                   digest: str | None = None) -> int | None:
    """The entity number the key already produced, or None if the key is new.

    A key reused for a different action, entity or request body is refused (`KeyReused`): it
    would hide a real change.
    """
    prior: dict[str, Any] | None = tx.store.inbox_get(key)
    if prior is None:
        return None
    if prior["action"] != action or (target is not None and prior["target"] != target):
        raise KeyReused(key, f"{prior['action']} on #{prior['target']}")
    # a key remembered without a digest (a step keyed before steps kept one) is not compared
    if digest is not None and prior.get("digest", digest) != digest:
        raise KeyReused(key, f"a different {action} request (#{prior['target']})")
    return int(prior["target"])


def remember(tx: Tx, key: str, action: str, target: int, at: datetime,
             digest: str | None = None) -> None:
    result = {"action": action, "target": target} | ({"digest": digest} if digest else {})
    tx.store.inbox_put(key, action, result, at)


@retrying("the command")
def fire_once(ctx: Context, key: str | None, action: str, target: int,
              load: Callable[[Tx, int], T], apply: Callable[[Tx, T], Any],
              params: Mapping[str, Any], now: datetime) -> T:
    """Load the entity, apply one action with `params` to it in one transaction, and remember
    the key with the digest of `params`.

    A repeated key with the same params returns the entity without applying again, with other
    params it is refused (`KeyReused`); a keyed duplicate that lost a race (version check or
    inbox conflict) returns the winner's result.
    """
    digest = params_digest(params) if key else None
    try:
        with ctx.tx() as tx:
            entity = load(tx, target)
            if key and replay_or_none(tx, key, action, target, digest) is not None:
                return entity
            apply(tx, entity)
            if key:
                remember(tx, key, action, target, now, digest)
            return entity
    except Exception as error:
        return settle_race(ctx, key, action, target, error, load, digest)


def settle_race(ctx: Context, key: str | None, action: str, target: int | None,
                error: Exception, load: Callable[[Tx, int], T], digest: str | None = None) -> T:
    """Two callers raced with the same key and this one lost (version check or inbox key
    conflict): return what the winner produced, or re-raise if it was not a keyed race."""
    if key is None or not _lost_race(error):
        raise error
    with ctx.tx(readonly=True) as tx:
        winner = replay_or_none(tx, key, action, target, digest)
        if winner is None:
            raise error
        return load(tx, winner)


def _lost_race(error: Exception) -> bool:
    return isinstance(error, ConcurrentUpdate) or is_integrity_error(error)
