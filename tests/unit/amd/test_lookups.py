import pytest

from amdsync.amd.config import AmdCredentials, mask_office_key
from amdsync.amd.memory import CountingMetrics, ManualClock, MemoryLookupCache

from .fake_amd import PASSWORD, FakeAmd, envelope, make_amd


def profiles_reply(ids):
    rows = [{"@id": f"prof{i}", "@code": f"C{i}  ", "@name": f"DOC,{i}"} for i in ids]
    return envelope(
        {
            "profilelist": {
                "@itemcount": str(len(rows)),
                "profile": rows[0] if len(rows) == 1 else rows,
            }
        }
    )


@pytest.fixture
def setup():
    fake = FakeAmd()
    fake.xmlrpc["lookupprofile"] = lambda msg: profiles_reply([101])
    metrics = CountingMetrics()
    clock = ManualClock()
    cache = MemoryLookupCache()
    return fake, metrics, clock, cache


def test_memo_then_shared_cache_then_amd(setup):
    fake, metrics, clock, cache = setup
    amd = make_amd(fake, metrics=metrics, clock=clock, lookup_cache=cache)
    assert [p.code for p in amd.lookups.profiles()] == ["C101"]  # single object normalised
    amd.lookups.profiles()
    other = make_amd(fake, metrics=metrics, clock=clock, lookup_cache=cache)
    other.lookups.profiles()  # another process: shared cache hit
    assert fake.calls.count("lookupprofile") == 1
    assert metrics.counts["LookupCacheMisses"] == 1
    assert metrics.counts["LookupCacheHits"] == 2


def test_cache_expires_after_an_hour(setup):
    fake, metrics, clock, cache = setup
    amd = make_amd(fake, metrics=metrics, clock=clock, lookup_cache=cache)
    amd.lookups.profiles()
    clock.advance(3601)
    amd.lookups.profiles()
    assert fake.calls.count("lookupprofile") == 2


def test_unknown_id_invalidates_and_rereads_once(setup):
    fake, metrics, clock, cache = setup
    amd = make_amd(fake, metrics=metrics, clock=clock, lookup_cache=cache)
    amd.lookups.profiles()
    fake.xmlrpc["lookupprofile"] = lambda msg: profiles_reply([101, 102])
    found = amd.lookups.find_profile("102")
    assert found is not None and found.name == "DOC,102"
    assert amd.lookups.find_profile("999") is None
    assert fake.calls.count("lookupprofile") == 3  # initial, miss on 102, miss on 999


def test_lists_larger_than_a_page_are_narrowed_by_prefix(setup):
    fake, _metrics, clock, _cache = setup

    def reply(msg):
        if msg["@name"] == "":
            return envelope(
                {
                    "profilelist": {
                        "@itemcount": "60",
                        "profile": [{"@id": f"prof{i}", "@name": f"A{i}"} for i in range(50)],
                    }
                }
            )
        if msg["@name"] == "B":
            return envelope(
                {
                    "profilelist": {
                        "profile": [{"@id": f"prof{i}", "@name": f"B{i}"} for i in range(50, 60)]
                    }
                }
            )
        return envelope({"profilelist": None})

    fake.xmlrpc["lookupprofile"] = reply
    assert len(make_amd(fake, clock=clock).lookups.profiles()) == 60


def test_facilities_both_reply_forms():
    fake = FakeAmd()
    fake.xmlrpc["lookupfacility"] = lambda msg: {
        "PPMDResults": {
            "record": [{"@uid": "fac3", "@facilitycode": "MAIN ", "@facilityname": "MAIN CLINIC"}]
        }
    }
    facilities = make_amd(fake).lookups.facilities()
    assert [(f.id, f.code, f.name) for f in facilities] == [("3", "MAIN", "MAIN CLINIC")]
    fake2 = FakeAmd()
    fake2.xmlrpc["lookupfacility"] = lambda msg: envelope(
        {"facilitylist": {"facility": {"@id": "fac4", "@code": "EAST", "@name": "EAST"}}}
    )
    assert make_amd(fake2).lookups.facilities()[0].id == "4"


def test_appointment_types_and_reasons():
    fake = FakeAmd()
    fake.xmlrpc["getappttypes"] = lambda msg: envelope(
        {
            "appttypelist": {
                "appttype": [
                    {
                        "@id": "ap_type13",
                        "@name": "THERAPY 50",
                        "appttypesettings": [{"@profile": "", "@duration": "50"}],
                    },
                    {"@id": "ap_type14", "@name": "OLD [DELETED]", "appttypesettings": None},
                ]
            }
        }
    )
    fake.xmlrpc["selectcancelreasons"] = lambda msg: envelope(
        {"cancelreasonlist": {"cancelreason": [{"@id": "23", "@name": "SICK"}]}}
    )
    amd = make_amd(fake)
    types = amd.lookups.appointment_types()
    assert [(t.id, t.name, t.deleted, t.default_duration) for t in types] == [
        ("13", "THERAPY 50", False, 50),
        ("14", "OLD", True, None),
    ]
    assert [(r.id, r.name) for r in amd.lookups.reasons()] == [("23", "SICK")]


def test_credentials_never_show_secrets():
    creds = AmdCredentials.from_secret(
        {"officeKey": "991982", "username": "API_USER", "password": PASSWORD, "appName": "TEMP"}
    )
    for rendering in (repr(creds), str(creds), f"{creds}"):
        assert (
            PASSWORD not in rendering and "991982" not in rendering and "API_USER" not in rendering
        )
    assert creds.masked_office_key == "••••82" == mask_office_key("991982")
    assert creds.password.get_secret_value() == PASSWORD
