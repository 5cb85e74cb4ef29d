"""Per-carrier terms from the environment: ORDERPILOT_CARRIERS='{"sf": {"promised_days": 2}}'."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from statemachine.ports import CarrierProfile


class CarrierTerms(BaseModel):
    promised_days: int = Field(5, ge=1, le=60)
    insured_value_threshold: int = Field(50_000, ge=0, description="minor units")


class CarrierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_", env_file=".env", extra="ignore")

    carriers: dict[str, CarrierTerms] = Field(
        default_factory=lambda: {"sim-express": CarrierTerms(promised_days=3)})

    def profiles(self) -> dict[str, CarrierProfile]:
        return {name: CarrierProfile(name, t.promised_days, t.insured_value_threshold)
                for name, t in self.carriers.items()}
