"""address entries and what placement recorded of addresses get the key today's parser gives
them, an entry that stood for several addresses becoming one per address

Now that a road named after a district names no district unless one is written (杭州市西湖大道1号
was CN|330106|西湖大道|1|, in 西湖区, though the road lies in 上城区; it is CN|330100|西湖大道|1|,
the city's; 深圳市南山大道1号 was CN|440305|…, it is CN|440300|…; 香港九龙城道1号 was
CN|810000|九龙城区九龙城道|1|, it is CN|810000|九龙城道|1|), Kowloon and the New Territories are
Hong Kong without its name (九龙弥敦道1号 was CN||||九龙|弥敦道|1|, with no region; it is
CN|810000|弥敦道|1|, as 香港九龙弥敦道1号), and a zone named after its city is found with or
without 市 (苏州市工业园区星湖街328号 was CN|320500|工业园区星湖街|328|; it is
CN|320571|星湖街|328|, as 苏州工业园区星湖街328号). Split as 0019 splits, entries re-keyed as
0016 does it and address facts as 0022 does it, by their code (0023's rekey_all runs the three).

Cost: 0022's, one parse per distinct address (100,000 orders to as many addresses: ~11 s on a
SQLite file), plus the entries.

Revision ID: 0027_address_keys_road_regions
Revises: 0026_address_keys_spellings
Create Date: 2026-11-29 05:30:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0027_address_keys_road_regions'
down_revision = '0026_address_keys_spellings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _sibling("0023_address_keys_bare_units.py").rekey_all(op.get_bind(), by="migration 0027")


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
