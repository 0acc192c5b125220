"""Credentials and connection settings for AdvancedMD.

Secret format (AWS Secrets Manager, one JSON object per practice; the secret's name comes from
the environment, the values never do in Lambda):

    {
      "officeKey": "999999",
      "username": "API_USER",
      "password": "********",
      "appName": "YOURAPP",
      "partnerLoginUrl": "https://partnerlogin.advancedmd.com/..."   (optional)
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from amdsync.amd.endpoints import DEFAULT_TRUSTED_HOSTS, LOOPBACK_HOSTS
from amdsync.domain.token_keys import TokenOwner

PARTNER_LOGIN_URL = "https://partnerlogin.advancedmd.com/practicemanager/xmlrpc/processrequest.aspx"
DEFAULT_TIMEZONE = "America/Denver"


def mask_office_key(office_key: str) -> str:
    """`991982` -> `••••82`: enough to tell practices apart, never the whole key (SPEC §3)."""
    return "••••" + office_key[-2:] if len(office_key) > 2 else "••••"


class AmdCredentials(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    office_key: str = Field(min_length=1)
    username: str = Field(min_length=1, repr=False)
    password: SecretStr
    app_name: str = Field(min_length=1)
    partner_login_url: str = PARTNER_LOGIN_URL
    # Domains the credentials may be posted to (configuration: AMD_TRUSTED_HOSTS).
    trusted_hosts: tuple[str, ...] = DEFAULT_TRUSTED_HOSTS

    def __repr__(self) -> str:
        return f"AmdCredentials(office_key={mask_office_key(self.office_key)!r})"

    __str__ = __repr__

    @property
    def masked_office_key(self) -> str:
        return mask_office_key(self.office_key)

    @property
    def credential_hosts(self) -> tuple[str, ...]:
        """Where login may post these credentials: the trusted domains, plus the partner login
        URL's own host when that is loopback (a local stack's simulator; a deployed stack's
        URL must be https on advancedmd.com, template.yaml's AllowedPattern)."""
        host = urlsplit(self.partner_login_url).hostname or ""
        return (*self.trusted_hosts, host) if host in LOOPBACK_HOSTS else self.trusted_hosts

    @property
    def token_owner(self) -> TokenOwner:
        """Whose token these credentials fetch: the token cache's key (never office key alone)."""
        return TokenOwner(
            login_url=self.partner_login_url, office_key=self.office_key, username=self.username
        )

    @classmethod
    def from_secret(cls, data: Mapping[str, Any]) -> AmdCredentials:
        """Build from the secret JSON documented above."""
        return cls(
            office_key=str(data["officeKey"]),
            username=str(data["username"]),
            password=SecretStr(str(data["password"])),
            app_name=str(data["appName"]),
            partner_login_url=str(data.get("partnerLoginUrl") or PARTNER_LOGIN_URL),
        )


def load_credentials(secret_name: str, max_age_seconds: int = 300) -> AmdCredentials:
    """Read the secret through Powertools parameters, which caches it per process."""
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - AWS only

    data = parameters.get_secret(secret_name, transform="json", max_age=max_age_seconds)
    if not isinstance(data, dict):
        raise ValueError("the AMD secret must be a JSON object")
    return AmdCredentials.from_secret(data)


class TokenPolicy(BaseModel):
    """How long a token is trusted: the earlier of `max_age` and the next midnight (§2.5).

    `midnight_zone=None` turns the midnight rule off. `margin` refreshes a little early so a
    token never expires between being read and being used.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    max_age: timedelta = timedelta(hours=24)
    midnight_zone: ZoneInfo | None = ZoneInfo(DEFAULT_TIMEZONE)
    margin: timedelta = timedelta(minutes=2)
    lease: timedelta = timedelta(seconds=30)
