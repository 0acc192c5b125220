import pytest

from amdsync.config import (
    AmdSettings,
    ApiSettings,
    ConfigError,
    TableSettings,
    load_settings,
)

TABLE_ENV = {
    "SYNC_TABLE": "s",
    "LOGS_TABLE": "l",
    "AUDIT_TABLE": "a",
    "CACHE_TABLE": "c",
    "CONTROL_TABLE": "k",
}


def test_settings_load_from_environment_names() -> None:
    settings = load_settings(TableSettings, {**TABLE_ENV, "PRACTICE_TIMEZONE": "America/Phoenix"})
    assert settings.sync_table == "s"
    assert settings.control_table == "k"
    assert settings.practice_timezone == "America/Phoenix"


def test_missing_variables_are_named_in_the_error() -> None:
    env = dict(TABLE_ENV)
    del env["AUDIT_TABLE"]
    with pytest.raises(ConfigError) as err:
        load_settings(ApiSettings, env)
    message = str(err.value)
    assert "AUDIT_TABLE (missing)" in message
    assert "AMD_SECRET_NAME (missing)" in message
    assert "SYNC_TABLE" not in message


def test_the_phi_hash_key_secret_is_optional_for_functions_that_never_fingerprint() -> None:
    env = {
        **TABLE_ENV,
        "AMD_SECRET_NAME": "amd",
        "AMD_PARTNER_LOGIN_URL": "https://partnerlogin.advancedmd.com/x",
        "SYNC_QUEUE_URL": "q",
    }
    assert load_settings(AmdSettings, env).phi_hash_key_secret is None
    named = load_settings(AmdSettings, {**env, "PHI_HASH_KEY_SECRET": "arn:secret"})
    assert named.phi_hash_key_secret == "arn:secret"
