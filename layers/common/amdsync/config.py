"""Typed settings per function, read from environment variables once at cold start.

A missing or malformed variable fails the cold start with a message naming it, instead of a
KeyError deep inside the first request.
"""

import os
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigError(RuntimeError):
    """The function's environment is incomplete or invalid."""


class FunctionSettings(BaseModel):
    """Settings every function shares. Field aliases are the environment variable names."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stage: str = Field(default="dev", alias="STAGE")
    practice_timezone: str = Field(default="America/Denver", alias="PRACTICE_TIMEZONE")


class TableSettings(FunctionSettings):
    sync_table: str = Field(alias="SYNC_TABLE")
    logs_table: str = Field(alias="LOGS_TABLE")
    audit_table: str = Field(alias="AUDIT_TABLE")
    cache_table: str = Field(alias="CACHE_TABLE")
    control_table: str = Field(alias="CONTROL_TABLE")


class AmdSettings(TableSettings):
    amd_secret_name: str = Field(alias="AMD_SECRET_NAME")
    amd_partner_login_url: str = Field(alias="AMD_PARTNER_LOGIN_URL")
    sync_queue_url: str = Field(alias="SYNC_QUEUE_URL")


class ApiSettings(AmdSettings):
    role_claim: str = Field(default="roles", alias="ROLE_CLAIM")


class WorkerSettings(AmdSettings):
    sync_dlq_url: str = Field(alias="SYNC_DLQ_URL")


class PullSettings(AmdSettings):
    alarm_topic_arn: str = Field(alias="ALARM_TOPIC_ARN")
    # First run (no watermark): GETDATEVISITS for each day in [today - back, today + ahead].
    bootstrap_days_back: int = Field(default=1, ge=0, le=31, alias="PULL_BOOTSTRAP_DAYS_BACK")
    bootstrap_days_ahead: int = Field(default=14, ge=0, le=90, alias="PULL_BOOTSTRAP_DAYS_AHEAD")
    # The pull may wait for rate budget inside its run (it has a minute to itself).
    max_rate_wait_seconds: float = Field(default=50.0, ge=0, le=100, alias="PULL_MAX_RATE_WAIT")


class ReportSettings(AmdSettings):
    alarm_topic_arn: str = Field(alias="ALARM_TOPIC_ARN")


SettingsT = TypeVar("SettingsT", bound=FunctionSettings)


def load_settings(model: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
    """Validate the environment against `model`; raise ConfigError naming each bad variable."""
    env = os.environ if environ is None else environ
    try:
        return model.model_validate(dict(env))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(part) for part in err["loc"])
            kind = "missing" if err["type"] == "missing" else err["msg"]
            problems.append(f"{name} ({kind})")
        raise ConfigError(
            f"{model.__name__}: bad environment variables: {', '.join(problems)}"
        ) from None
