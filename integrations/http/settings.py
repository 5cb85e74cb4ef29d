"""HTTP ingestion settings: per-source secrets, replay window, body limit (ORDERPILOT_HTTP_*)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SOURCES = ("shop", "payments", "carriers", "reviews", "ops")


class HttpSettings(BaseSettings):
    """Secrets come from the environment (or .env), e.g.
    ORDERPILOT_HTTP_SECRETS='{"payments": "...", "carriers": "..."}'; never from code."""

    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_HTTP_", env_file=".env",
                                      extra="ignore")

    secrets: dict[str, SecretStr] = Field(default_factory=dict,
                                          description=f"source → secret; sources: {SOURCES}")
    replay_window_seconds: int = Field(300, ge=1, le=3600)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    group_commit: bool = Field(False, description="apply concurrent webhook events in shared "
                               "transactions (see integrations/service/group_commit.py)")
    group_commit_max_batch: int = Field(64, ge=1, le=10_000)
    group_commit_max_wait_ms: float = Field(
        0.0, ge=0, le=1000, description="the least time a batch stays open for company; 0: it "
        "commits as soon as none of its commands runs (whoever arrived meanwhile is in it)")
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)

    def secret(self, source: str) -> str | None:
        value = self.secrets.get(source)
        return value.get_secret_value() if value else None
