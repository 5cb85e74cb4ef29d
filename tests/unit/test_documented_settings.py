"""Every ORDERPILOT_* variable the docs tell an operator to set is one orderpilot reads: a field
of a settings class read at start-up, or a variable the benchmarks and tests read themselves.
(ORDERPILOT_CARRIERS was documented in three places and read by nothing.)"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel
from pydantic_settings import BaseSettings

from integrations.config import Settings
from integrations.http.settings import HttpSettings
from integrations.notifications.apprise_notifier import NotifySettings
from integrations.payments.settings import PaymentSettings
from integrations.risk.settings import RiskSettings

ROOT = Path(__file__).parents[2]
READ = (Settings, RiskSettings, HttpSettings, PaymentSettings, NotifySettings)
RETIRED = {"ORDERPILOT_NOTIFY_STAFF_URLS"}  # named as what ORDERPILOT_NOTIFY_ROUTES replaced
NAME = re.compile(r"ORDERPILOT_[A-Z0-9_]+")


def variables(kind: type[BaseSettings]) -> set[str]:
    prefix = kind.model_config.get("env_prefix", "")
    nested = kind.model_config.get("env_nested_delimiter")
    names = set()
    for name, info in kind.model_fields.items():
        names.add((prefix + name).upper())
        model = info.annotation
        if nested and isinstance(model, type) and issubclass(model, BaseModel):
            names |= {(prefix + name + nested + sub).upper() for sub in model.model_fields}
    return names


def read_by_code() -> set[str]:
    """Variables the code reads itself (os.environ.get / getenv / environ[…])."""
    text = "\n".join(p.read_text(encoding="utf-8") for folder in ("bench", "tests", "orderpilot",
                                                                   "integrations", "flows")
                     for p in (ROOT / folder).rglob("*.py"))
    return set(re.findall(r"(?:environ\.get\(|getenv\(|environ\[)\"(ORDERPILOT_[A-Z0-9_]+)\"",
                          text))


def test_every_documented_variable_is_read():
    known = set().union(*(variables(kind) for kind in READ)) | read_by_code() | RETIRED
    pages = [*ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("integrations/**/*.md")]
    unread = {}
    for page in pages:
        for name in set(NAME.findall(page.read_text(encoding="utf-8"))):
            # a group (ORDERPILOT_WEBHOOKS__*, ORDERPILOT_PAYMENTS_ALIPAY_*) names known ones
            if name not in known and not any(k.startswith(name.rstrip("_") + "_")
                                             for k in known):
                unread.setdefault(name, []).append(str(page.relative_to(ROOT)))
    assert unread == {}
