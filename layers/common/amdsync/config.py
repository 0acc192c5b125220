"""Typed settings per function, read from environment variables once at cold start.

A missing or malformed variable fails the cold start with a message naming it, instead of a
KeyError deep inside the first request.
"""

import os
from collections.abc import Mapping
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator


class ConfigError(RuntimeError):
    """The function's environment is incomplete or invalid."""


class FunctionSettings(BaseModel):
    """Settings every function shares. Field aliases are the environment variable names."""

    # defer_build: a function validates one settings class; building the validators of all
    # of them at import was a measurable part of every cold start.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    stage: str = Field(default="dev", alias="STAGE")
    # The opaque id every stored key, queue message and log entry names the practice by (the
    # office key stays in the secret); tokens' `practice` claim must equal it (SPEC §9.5).
    practice_id: str = Field(
        default="main", alias="PRACTICE_ID", pattern=r"^[a-z0-9][a-z0-9-]{0,31}$"
    )
    practice_timezone: str = Field(default="America/Denver", alias="PRACTICE_TIMEZONE")


class TableSettings(FunctionSettings):
    sync_table: str = Field(alias="SYNC_TABLE")
    logs_table: str = Field(alias="LOGS_TABLE")
    audit_table: str = Field(alias="AUDIT_TABLE")
    cache_table: str = Field(alias="CACHE_TABLE")
    control_table: str = Field(alias="CONTROL_TABLE")
    # Signed webhooks (SPEC §9.4): the FIFO queue events are published to (unset: none are),
    # and the hosts exempt from the SSRF guard's https-and-public-address rule, comma-separated
    # (empty when deployed; the local stack's test receivers on 127.0.0.1).
    webhook_queue_url: str | None = Field(default=None, alias="WEBHOOK_QUEUE_URL")
    webhook_insecure_hosts: str = Field(
        default="", alias="WEBHOOK_INSECURE_HOSTS", pattern=r"^([a-z0-9.:-]+(,[a-z0-9.:-]+)*)?$"
    )

    @property
    def insecure_webhook_hosts(self) -> tuple[str, ...]:
        return tuple(h for h in self.webhook_insecure_hosts.split(",") if h)


class AmdSettings(TableSettings):
    amd_secret_name: str = Field(alias="AMD_SECRET_NAME")
    amd_partner_login_url: str = Field(alias="AMD_PARTNER_LOGIN_URL")
    # Comma-separated domains the AMD credentials may be posted to (amd/endpoints.py).
    amd_trusted_hosts: str = Field(
        default="advancedmd.com", alias="AMD_TRUSTED_HOSTS", pattern=r"^[a-z0-9.-]+(,[a-z0-9.-]+)*$"
    )
    sync_queue_url: str = Field(alias="SYNC_QUEUE_URL")
    # The background lane's queue (SPEC §9.3: bulk, sync-all, reconcile). Unset: background
    # jobs share the interactive queue (and still yield to interactive calls in the limiter).
    background_queue_url: str | None = Field(default=None, alias="BACKGROUND_QUEUE_URL")
    # The secret (name or ARN) holding the key demographics are fingerprinted with (HMAC,
    # issue 16). Only the API and the worker fingerprint, so only they get it; Services reads
    # it on first use and fails then, naming it, if it is missing.
    phi_hash_key_secret: str | None = Field(default=None, alias="PHI_HASH_KEY_SECRET")
    # The SNS topic for operator notices (alarms, the blocked-pull notice, the weekly summary).
    alarm_topic_arn: str | None = Field(default=None, alias="ALARM_TOPIC_ARN")
    # The stack's CloudWatch alarms (names, comma-separated) whose states the dashboard shows
    # (the API function's; template.yaml lists the alarm resources).
    alarm_names: str = Field(default="", alias="ALARM_NAMES")
    # The function's own timeout (template.yaml sets it from the function's `Timeout`): the AMD
    # client's HTTP timeouts and retries are derived from it so one call always fits
    # (amd/budget.py). Unset (CLI, tools): the client's defaults.
    function_timeout_seconds: float | None = Field(
        default=None, gt=0, le=900, alias="FUNCTION_TIMEOUT_SECONDS"
    )

    @property
    def trusted_hosts(self) -> tuple[str, ...]:
        return tuple(self.amd_trusted_hosts.split(","))


class ApiSettings(AmdSettings):
    # The claim holding the caller's roles (template parameter RoleClaim, same default).
    role_claim: str = Field(default="cognito:groups", alias="ROLE_CLAIM")


class UiSettings(FunctionSettings):
    """How the admin UI signs people in (SPEC §9.5), served to its pages (web/api_ui.py)."""

    # The OIDC issuer the HttpApi authorizer trusts; the UI discovers its endpoints from
    # `<issuer>/.well-known/openid-configuration`. Unset: no issuer sign-in is offered.
    oidc_issuer: str | None = Field(
        default=None, alias="OIDC_ISSUER", pattern=r"^https?://[A-Za-z0-9.:-]+(/[\w.~%/-]*)?$"
    )
    # The UI's public client at the issuer (authorization code + PKCE, no secret).
    oidc_client_id: str | None = Field(
        default=None, alias="OIDC_CLIENT_ID", pattern=r"^[A-Za-z0-9._~-]{1,128}$"
    )
    # Where sign-out ends the issuer's session when discovery names no `end_session_endpoint`
    # (Cognito: https://<domain>/logout).
    oidc_logout_url: str | None = Field(
        default=None, alias="OIDC_LOGOUT_URL", pattern=r"^https?://[A-Za-z0-9.:-]+(/[\w.~%/-]*)?$"
    )
    # A local-development switch: the sign-in page also takes a pasted token. Off when deployed.
    ui_token_paste: bool = Field(default=False, alias="UI_TOKEN_PASTE")
    role_claim: str = Field(default="roles", alias="ROLE_CLAIM")

    @field_validator("oidc_issuer", "oidc_client_id", "oidc_logout_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def issuer_sign_in(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


class WorkerSettings(AmdSettings):
    sync_dlq_url: str = Field(alias="SYNC_DLQ_URL")
    # The base of the retry backoff's clock (full jitter, doubling per try, capped at 15 min):
    # the e2e suite shortens it so a persistent AMD failure reaches Failed work in seconds.
    retry_base_seconds: float = Field(default=10.0, gt=0, le=60, alias="SYNC_RETRY_BASE_SECONDS")


class WebhookDeliverySettings(TableSettings):
    webhook_queue_url: str = Field(alias="WEBHOOK_QUEUE_URL")


class PullSettings(AmdSettings):
    alarm_topic_arn: str = Field(alias="ALARM_TOPIC_ARN")
    # First run (no watermark): GETDATEVISITS for each day in [today - back, today + ahead].
    bootstrap_days_back: int = Field(default=1, ge=0, le=31, alias="PULL_BOOTSTRAP_DAYS_BACK")
    bootstrap_days_ahead: int = Field(default=14, ge=0, le=90, alias="PULL_BOOTSTRAP_DAYS_AHEAD")
    # The pull may wait for rate budget inside its run (it has a minute to itself).
    max_rate_wait_seconds: float = Field(default=50.0, ge=0, le=100, alias="PULL_MAX_RATE_WAIT")


class ReportSettings(AmdSettings):
    alarm_topic_arn: str = Field(alias="ALARM_TOPIC_ARN")


class CliSettings(FunctionSettings):
    """The operator CLI's own variables (`amdsync`, README "Operator CLI").

    The CLI joins a stack (the service's token cache, rate buckets and lookups) when `--stack`
    or AMDSYNC_STACK names a CloudFormation stack, or when CONTROL_TABLE/CACHE_TABLE are set:
    it then reads the functions' own settings (`AmdSettings`, the same variables the functions
    get) and the AMD_* credentials below are not used. Without either it runs alone, on its own
    files under AMDSYNC_STATE_DIR. An empty variable counts as unset.
    """

    stack: str | None = Field(default=None, alias="AMDSYNC_STACK")
    control_table: str | None = Field(default=None, alias="CONTROL_TABLE")
    cache_table: str | None = Field(default=None, alias="CACHE_TABLE")
    # Alone: the credentials, or the name of a secret holding them (the secret's JSON format).
    amd_office_key: str | None = Field(default=None, alias="AMD_OFFICE_KEY")
    amd_username: str | None = Field(default=None, alias="AMD_USERNAME")
    amd_password: SecretStr | None = Field(default=None, alias="AMD_PASSWORD")
    amd_app_name: str | None = Field(default=None, alias="AMD_APP_NAME")
    amd_secret_name: str | None = Field(default=None, alias="AMD_SECRET_NAME")
    amd_partner_login_url: str | None = Field(default=None, alias="AMD_PARTNER_LOGIN_URL")
    amd_timezone: str | None = Field(default=None, alias="AMD_TIMEZONE")
    state_dir: str | None = Field(default=None, alias="AMDSYNC_STATE_DIR")
    xdg_cache_home: str | None = Field(default=None, alias="XDG_CACHE_HOME")
    # Seconds the CLI may wait for rate budget (a Lambda worker defers instead).
    max_rate_wait: float = Field(default=120.0, ge=0, le=3600, alias="AMD_MAX_RATE_WAIT")

    @field_validator(
        "stack", "control_table", "cache_table", "amd_office_key", "amd_username",
        "amd_password", "amd_app_name", "amd_secret_name", "amd_partner_login_url",
        "amd_timezone", "state_dir", "xdg_cache_home", mode="before",
    )  # fmt: skip
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    OWN_CREDENTIALS: ClassVar[tuple[str, ...]] = (
        "AMD_OFFICE_KEY",
        "AMD_USERNAME",
        "AMD_PASSWORD",
        "AMD_APP_NAME",
    )

    @property
    def joins_stack(self) -> bool:
        """True when the environment names the service's tables (like the functions get)."""
        return bool(self.control_table or self.cache_table)

    def own_credentials_given(self) -> list[str]:
        """Which of the CLI's own credential variables are set (names only, never values)."""
        values = (self.amd_office_key, self.amd_username, self.amd_password, self.amd_app_name)
        return [name for name, value in zip(self.OWN_CREDENTIALS, values, strict=True) if value]


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
