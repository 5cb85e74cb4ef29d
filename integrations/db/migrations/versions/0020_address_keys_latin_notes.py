"""address block / allow entries get the key today's address parser gives them, again

Now that a bracketed note for the courier in a Latin-script address is left out of the key,
as a Chinese one is since 0018 (18 Wensan Road (leave at gate), Hangzhou, CN was
CN|||hangzhou||18 wensan road leave at gate|18|, it is CN|||hangzhou||18 wensan road|18|;
brackets around a unit, (Apt 5), (2nd floor), stay in it). Entries are re-keyed exactly as
0016 does it, by 0016's own code.

Revision ID: 0020_address_keys_latin_notes
Revises: 0019_address_keys_districts
Create Date: 2026-11-28 19:45:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0020_address_keys_latin_notes'
down_revision = '0019_address_keys_districts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rekey_of_0016()(op.get_bind(), by="migration 0020")


def downgrade() -> None:
    pass  # the old keys were the wrong ones; nothing to restore


def _rekey_of_0016():
    """0016's `rekey` (revision files are not a package: loaded by path, as alembic does)."""
    path = Path(__file__).with_name("0016_address_keys_simplified.py")
    spec = importlib.util.spec_from_file_location("orderpilot_migration_0016", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.rekey
