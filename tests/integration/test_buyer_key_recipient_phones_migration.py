"""Migration 0038: the install's buyer-id key is generated once — each store its own, kept
through a downgrade and the next upgrade (a key made again would make every imported email a
new buyer)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, upgrade

BEFORE = "0036_subscription_ids_not_reused"
KEY = "SELECT value FROM install_secrets WHERE name = 'buyer_ids'"


def _to(url: str, revision: str, down: bool = False) -> None:
    engine, config = make_engine(url), alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()


def _key(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(KEY)).scalar_one()
    engine.dispose()
    return value


def test_the_buyer_key_is_made_once_and_kept_through_a_downgrade(empty_url):
    # Given a store brought to the head from nothing
    engine = make_engine(empty_url)
    upgrade(engine)
    engine.dispose()
    made = _key(empty_url)
    # When it is taken back before 0038 and upgraded again
    _to(empty_url, BEFORE, down=True)
    _to(empty_url, "head")
    # Then the key is the one made first: 32 random bytes, written as hex
    assert _key(empty_url) == made
    assert len(bytes.fromhex(made)) == 32


def test_each_store_makes_its_own_key(empty_sqlite_url, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    for url in (empty_sqlite_url, other):
        _to(url, "head")
    assert _key(empty_sqlite_url) != _key(other)
