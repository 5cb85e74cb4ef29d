"""address entries and what placement recorded of addresses get the key today's parser gives
them, an entry that stood for several addresses becoming one per address

Now that a road named after a district names no district unless one is written (杭州市西湖大道1号
was CN|330106|西湖大道|1|, in 西湖区, though the road lies in 上城区; it is CN|330100|西湖大道|1|,
the city's; 深圳市南山大道1号 was CN|440305|…, it is CN|440300|…; 香港九龙城道1号 was
CN|810000|九龙城区九龙城道|1|, it is CN|810000|九龙城道|1|), Kowloon and the New Territories are
Hong Kong without its name (九龙弥敦道1号 was CN||||九龙|弥敦道|1|, with no region; it is
CN|810000|弥敦道|1|, as 香港九龙弥敦道1号), a zone named after its city is found with or
without 市 (苏州市工业园区星湖街328号 was CN|320500|工业园区星湖街|328|; it is
CN|320571|星湖街|328|, as 苏州工业园区星湖街328号), a tower with no building named before it
keys as a building (文三路18号B座1203 was …|18|b座1203, apart from B栋1203室; both are
…|18|b栋1203; 12栋A座, a wing of building 12, is unchanged) and a residential compound named
with a road and its house number is left out of the key wherever it was written
(上海市浦东新区阳光花园张杨路500弄3号601室 was CN|310115|阳光花园张杨路|500弄3|601,
张杨路500弄3号阳光花园601室 …|张杨路|500弄3|阳光花园601; both are
CN|310115|张杨路|500弄3|601, as without the compound). One migration for all five, so that a
store parses its addresses once. Split as 0019 splits, entries re-keyed as 0016 does it and
address facts as 0022 does it, by their code (0023's rekey_all runs the three).

Cost: one parse per distinct address, as 0022: 100,000 orders to as many addresses took 64 s of
CPU on a SQLite file (592 s of wall time on a shared machine at load 15; bench figures in
docs/risk.md).

Revision ID: 0027_address_keys_places
Revises: 0026_address_keys_spellings
Create Date: 2026-11-29 05:30:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0027_address_keys_places'
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
