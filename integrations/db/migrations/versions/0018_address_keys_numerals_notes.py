"""address block / allow entries get the key today's address parser gives them, again

Now that a house number written in Chinese numerals is read as digits (浙江省杭州市西湖区
文三路十八号 was CN|330106|文三路十八号||, it is CN|330106|文三路|18|) and a bracketed
note for the courier is left out of the key (文三路18号(放门卫) was CN|330106|文三路|18|放门卫, it
is CN|330106|文三路|18|). An entry listed under an old key would match no order placed after
the upgrade. Entries are re-keyed exactly as 0016 does it, by 0016's own code: from the
address as typed (`shown`) or the shipping address of the evidence order that had the key;
an entry whose new key is listed already (same list) gives it its evidence and is removed.
(A Taiwan district found in the same release left keys as they were.)

Revision ID: 0018_address_keys_numerals_notes
Revises: 0017_parcel_goods
Create Date: 2026-11-28 15:30:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0018_address_keys_numerals_notes'
down_revision = '0017_parcel_goods'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rekey_of_0016()(op.get_bind(), by="migration 0018")


def downgrade() -> None:
    pass  # the old keys were the wrong ones; nothing to restore


def _rekey_of_0016():
    """0016's `rekey` (revision files are not a package: loaded by path, as alembic does)."""
    path = Path(__file__).with_name("0016_address_keys_simplified.py")
    spec = importlib.util.spec_from_file_location("orderpilot_migration_0016", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.rekey
