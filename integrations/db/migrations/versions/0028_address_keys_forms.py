"""address entries and what placement recorded of addresses get the key today's parser gives
them, an entry that stood for several addresses becoming one per address

Now that a tower in Chinese numerals after the house number is that tower (文三路18号三座1203
was …|18|三座1203, apart from 3座1203; both are …|18|3栋1203), an office building (大厦) or a
新村 named with a road and its house number is left out of the key as a compound is
(华星大厦文三路18号1203室 was CN|330106|华星大厦文三路|18|1203; it is CN|330106|文三路|18|1203,
as without it), a compound whose name holds 镇 after a subdistrict no longer cuts the key there
(桂城街道镇安花园南海大道1号 was CN|440605|桂城街道镇南海大道|1|; it is …|桂城街道南海大道|1|),
a landmark named after a district names no district unless one is written (杭州市西湖文化广场
1号 was CN|330106|文化广场|1|, in 西湖区; it is CN|330100|西湖文化广场|1|, the city's: the
square is in 拱墅区) and Taipa or Coloane without 澳门 is Macau (氹仔花城大马路1号 had no
region, CN|||||氹仔花城大马路|1|; it is CN|820000|…, as 澳门氹仔花城大马路1号). Split as 0019
splits, entries re-keyed as 0016 does it and address facts as 0022 does it, by their code
(0023's rekey_all runs the three).

Cost: one parse per distinct address, as 0022 and 0027: 10,000 orders to as many addresses,
with their placement facts, took 3.2 s of CPU (5.2 s wall, load 9) on a SQLite file, about 32 s
per 100,000 (0027 was measured at 64 s at load 15; docs/risk.md).

Revision ID: 0028_address_keys_forms
Revises: 0027_address_keys_places
Create Date: 2026-11-29 09:30:00.000000
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0028_address_keys_forms"
down_revision = "0027_address_keys_places"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _sibling("0023_address_keys_bare_units.py").rekey_all(op.get_bind(), by="migration 0028")


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
