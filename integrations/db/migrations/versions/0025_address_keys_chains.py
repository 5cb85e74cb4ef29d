"""address entries and what placement recorded of addresses get the key today's parser gives
them, an entry that stood for several addresses becoming one per address

Now that three numbers or more a dash joins before 号 are a house number and a unit, not a
range (文三路1-2-3号 was CN|330106|文三路|12-3|, as 文三路12-3号 is; it is
CN|330106|文三路|1|2-3), and a place named 九龙… keeps its name (香港九龙城道1号 was
CN|810000|九龙城区城道|1|, it is
CN|810000|九龙城区九龙城道|1|; 香港九龙坑1号 was CN|810000|坑|1|, it is
CN|810000|九龙坑|1|). Split as 0019 splits, entries re-keyed as 0016 does it and address facts
as 0022 does it, by their code (0023's rekey_all runs the three).

Revision ID: 0025_address_keys_chains
Revises: 0024_address_keys_kowloon
Create Date: 2026-11-29 02:00:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0025_address_keys_chains'
down_revision = '0024_address_keys_kowloon'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _sibling("0023_address_keys_bare_units.py").rekey_all(op.get_bind(), by="migration 0025")


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
