"""address entries and what placement recorded of addresses get the key today's parser gives
them, an entry that stood for several addresses becoming one per address

Now that a bracket holding only a room's numbers is the address, not a courier's note
(文三路18号(3-502) was CN|330106|文三路|18|, the key of the whole of No. 18; it is
CN|330106|文三路|18|3-502), and a unit's number in Chinese numerals with no unit word is read as
digits (文三路18号三-五〇二 was …|18|三-五〇二; it is …|18|3-502). Under the old key an entry
listed from an order to (3-502) stood for the whole building: it is split as 0019 splits, by
0019's code; every entry is re-keyed as 0016 does it, and every order's address fact as 0022
does it, by their code.

Revision ID: 0023_address_keys_bare_units
Revises: 0022_address_keys_in_risk_facts
Create Date: 2026-11-29 00:30:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0023_address_keys_bare_units'
down_revision = '0022_address_keys_in_risk_facts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rekey_all(op.get_bind(), by="migration 0023")


def rekey_all(conn, by: str) -> None:
    """Split entries that now stand for several addresses, re-key entries, re-key address
    facts: what a change of the address key needs (also run by 0024 to 0026)."""
    m0016 = _sibling("0016_address_keys_simplified.py")
    _sibling("0019_address_keys_districts.py").split(conn, m0016)
    m0016.rekey(conn, by=by)
    _sibling("0022_address_keys_in_risk_facts.py").rekey_facts(conn)


def downgrade() -> None:
    pass  # the old keys were the wrong ones; nothing to restore


def _sibling(name: str):
    """Another revision's module (revision files are not a package: loaded by path, as
    alembic does)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"orderpilot_migration_{name[:4]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
