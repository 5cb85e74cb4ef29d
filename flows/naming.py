"""A store's names on a Prefect server it may share with another store (a staging shop beside
production). With ORDERPILOT_SHOP set, every artifact key, deployment and case-run name its
console and flows make starts with the shop's name (`staging-review-queue`,
`staging-order-o-12`, deployment `risk-review/staging-risk-review`) and its deployments carry a
`shop:<name>` tag; without one, the names stay as a single store has always had them."""

from __future__ import annotations

from integrations.service.context import Context


def shop_of(ctx: Context) -> str | None:
    """The store's short name (ORDERPILOT_SHOP), or None for a single store."""
    return ctx.settings.shop


def named(shop: str | None, name: str) -> str:
    """`name` as this shop's: `staging-review-queue` (a valid artifact key: the shop name is
    lowercase letters, digits and dashes, checked when the settings are read)."""
    return f"{shop}-{name}" if shop else name


def shop_tags(shop: str | None) -> list[str]:
    """The tag that lets the UI's filters show one shop's deployments and runs."""
    return [f"shop:{shop}"] if shop else []
