"""address block / allow entries get the key today's address parser gives them, and an entry
that stood for several addresses becomes one per address (again)

Now that a unit keeps the dashes between its numbers (文三路18号3-502 was CN|330106|文三路|18|3502,
as 35-02 and 3502 were; it is CN|330106|文三路|18|3-502) and a floor is one floor however it is
written (B座3楼, B座3层, B座3F: CN|330106|文三路|18|b座3层). The first change can make one
entry stand for two addresses (listed for 3-502, it took in an order to 35-02): it is split as
0019 splits, by 0019's own code; then every entry is re-keyed as 0016 does it, by 0016's.

Revision ID: 0021_address_keys_units
Revises: 0020_address_keys_latin_notes
Create Date: 2026-11-28 19:55:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0021_address_keys_units'
down_revision = '0020_address_keys_latin_notes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    m0016 = _sibling("0016_address_keys_simplified.py")
    _sibling("0019_address_keys_districts.py").split(conn, m0016)
    m0016.rekey(conn, by="migration 0021")


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
