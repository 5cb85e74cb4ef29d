"""address entries and what placement recorded of addresses get the key today's parser gives
them, an entry that stood for several addresses becoming one per address

Now that a room is its number and a building one word in the key (5幢302室, 5号楼302 and
5栋302 were three keys; all are CN|320106|中山路|100|5栋302), numerals before 组 / 巷 / 队 are
digits (七里村三组 was apart from 七里村3组), a sub-number is a number (中山路1号之一 was
…|1|之1; it is …|1-1|, as 1-1号), a phone number written in the address is a note (…|1|13800138000
was a key per phone number), a road named after its district keeps its name (深圳市南山大道1号
was CN|440305|大道|1|; it is …|南山大道|1|) and 上海南京东路1号 is in Shanghai (it was in 海南省,
on 京东路), and a chain after a house number is the unit (新牌坊一路1号2-3-1号 was …|1|2号3-1; it
is …|1|2-3-1, as without its 号). Split as 0019 splits, entries re-keyed as 0016 does it and
address facts as 0022 does it, by their code (0023's rekey_all runs the three).

Revision ID: 0026_address_keys_spellings
Revises: 0025_address_keys_chains
Create Date: 2026-11-29 02:40:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0026_address_keys_spellings'
down_revision = '0025_address_keys_chains'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _sibling("0023_address_keys_bare_units.py").rekey_all(op.get_bind(), by="migration 0026")


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
