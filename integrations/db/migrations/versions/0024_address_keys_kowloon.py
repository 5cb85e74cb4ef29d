"""address entries and what placement recorded of addresses get the key today's parser gives
them, an entry that stood for several addresses becoming one per address

Now that 九龙 (Kowloon, the area) is not read as 九龙城区 (香港九龙弥敦道1号 was
CN|810000|九龙城区弥敦道|1|; it is CN|810000|弥敦道|1|, as 香港弥敦道1号 is; 香港九龙油尖旺区弥敦道1号
was CN|810000|九龙城区油尖旺区弥敦道|1|) and 九龙城 is the district in full (香港九龙城太子道西188号
was CN|810000|九龙城区城太子道西|188|). Split as 0019 splits, entries re-keyed as 0016 does it and
address facts as 0022 does it, by their code (0023's rekey_all runs the three).

Revision ID: 0024_address_keys_kowloon
Revises: 0023_address_keys_bare_units
Create Date: 2026-11-29 01:00:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0024_address_keys_kowloon'
down_revision = '0023_address_keys_bare_units'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _sibling("0023_address_keys_bare_units.py").rekey_all(op.get_bind(), by="migration 0024")


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
