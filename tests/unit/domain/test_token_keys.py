"""The one key every AMD token cache files a token under: login URL + office key + username."""

from datetime import UTC, datetime, timedelta

import pytest

from amdsync.amd.memory import MemoryTokenCache
from amdsync.domain.token_keys import TokenOwner, token_cache_key

SANDBOX = "https://partnerlogin.sandbox.test/practicemanager/xmlrpc/processrequest.aspx"
PRODUCTION = "https://partnerlogin.advancedmd.com/practicemanager/xmlrpc/processrequest.aspx"
OWNER = TokenOwner(login_url=PRODUCTION, office_key="999999", username="API_USER")
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "other",
    [
        TokenOwner(login_url=SANDBOX, office_key="999999", username="API_USER"),
        TokenOwner(login_url=PRODUCTION, office_key="999999", username="OTHER_USER"),
        TokenOwner(login_url=PRODUCTION, office_key="999998", username="API_USER"),
    ],
    ids=["login-url", "username", "office-key"],
)
def test_every_part_of_the_owner_changes_the_key(other):
    assert token_cache_key(other) != token_cache_key(OWNER)


def test_the_same_owner_always_gets_the_same_key():
    again = TokenOwner(login_url=PRODUCTION, office_key="999999", username="API_USER")
    assert token_cache_key(again) == token_cache_key(OWNER)


def test_the_key_names_neither_the_office_key_nor_the_url_nor_the_username():
    key = token_cache_key(OWNER)
    assert len(key) == 32 and int(key, 16) >= 0
    assert "999999" not in key and "API_USER" not in key and "advancedmd" not in key
    assert "API_USER" not in repr(OWNER)


def test_memory_cache_never_hands_one_users_token_to_another():
    cache = MemoryTokenCache()
    cache.save(OWNER, token="T1", webserver="w", issued_at=NOW, expires_at=NOW + timedelta(hours=1))
    other_user = TokenOwner(login_url=PRODUCTION, office_key="999999", username="OTHER_USER")
    other_env = TokenOwner(login_url=SANDBOX, office_key="999999", username="API_USER")
    assert cache.load(other_user) is None and cache.load(other_env) is None
    assert cache.try_lease(OWNER, "a", NOW, NOW + timedelta(seconds=30))
    assert cache.try_lease(other_user, "b", NOW, NOW + timedelta(seconds=30))  # its own lease
    loaded = cache.load(OWNER)
    assert loaded is not None and loaded.token == "T1"
