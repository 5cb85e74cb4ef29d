"""The flows' cached service contexts (flows/wiring.py) hold no connection once the cache has
let them go: more store URLs in one process than it keeps (a worker serving several shops, a
test session) left each evicted context's connections open until the process exited."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.wiring import context

KEPT = 8  # the cache's size


@pytest.fixture
def cache() -> Iterator[None]:
    context.cache_clear()
    yield
    context.cache_clear()


def test_a_context_the_cache_lets_go_closes_its_connections(any_url, tmp_path: Path,
                                                            _sqlite_template: Path, cache):
    # Given a store's context that has served a unit of work, and no caller holding it
    first = context(any_url)
    with first.tx(readonly=True):
        pass
    units = first.units
    assert units._open == 1
    del first
    # When the process goes on to as many other stores as the cache keeps
    for n in range(KEPT):
        shutil.copyfile(_sqlite_template, tmp_path / f"shop-{n}.db")
        context(f"sqlite:///{tmp_path / f'shop-{n}.db'}")
    # Then the first context's connections are closed
    assert units._open == 0


def test_a_context_let_go_while_in_use_is_closed_when_its_user_is_done(
        tmp_path: Path, _sqlite_template: Path, cache):
    # Given a caller still using a store's context when the cache lets it go
    urls = []
    for n in range(KEPT + 1):
        shutil.copyfile(_sqlite_template, tmp_path / f"shop-{n}.db")
        urls.append(f"sqlite:///{tmp_path / f'shop-{n}.db'}")
    held = context(urls[0])
    units = held.units
    for url in urls[1:]:
        context(url)
    # Then it still serves that caller
    with held.tx(readonly=True):
        pass
    assert units._open == 1
    # and is closed when the caller lets it go
    del held
    assert units._open == 0
