import pytest

from amdsync.config import ApiSettings, ConfigError, TableSettings, load_settings

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
