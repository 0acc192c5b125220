"""Login posts the password only to trusted hosts over https (issue 16): a step-1 reply that
names another webserver is refused before step 2 sends anything there."""

from __future__ import annotations

import pytest

from amdsync.amd.endpoints import UntrustedEndpoint
from tests.unit.amd.fake_amd import FakeAmd, make_amd


@pytest.mark.parametrize(
    "webserver",
    [
        "https://collector.example/processrequest/api-042/TEMP",
        "http://amd.test/processrequest/api-042/TEMP",
        "https://amd.test.collector.example/processrequest/api-042/TEMP",
    ],
    ids=["other-host", "plain-http", "lookalike"],
)
def test_a_redirect_to_an_untrusted_webserver_gets_no_password(webserver: str) -> None:
    fake = FakeAmd()
    fake.xmlrpc["lookupprofile"] = lambda msg: {}
    fake.webserver = webserver
    amd = make_amd(fake)
    with pytest.raises(UntrustedEndpoint):
        amd.lookups.profiles()
    logins = [msg for action, msg, _ in fake.messages if action == "login"]
    assert len(logins) == 1  # step 1 only, to the configured partner host
    assert fake.logins == 0
