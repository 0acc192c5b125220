"""Providers, profiles, facilities, scheduler setup, types and reasons (PROTOCOL §3.1-§3.3)."""

from tests.amdsim.helpers import Amd, as_list, fault_code


def test_lookupprofile_prefix_contains_and_exact(amd: Amd):
    everyone = amd.ok("lookupprofile", name="", exactmatch="-1", page="2")["profilelist"]
    assert everyone["@itemcount"] == str(len(as_list(everyone["profile"]))) == "22"
    assert everyone["@page"] == "1"  # page is honoured only for patient-type lookups
    prefix = amd.ok("lookupprofile", name="provider,s")["profilelist"]
    assert as_list(prefix["profile"])[0]["@name"] == "PROVIDER,SIERRA"
    contains = as_list(amd.ok("lookupprofile", name="%OSC")["profilelist"]["profile"])
    assert [p["@name"] for p in contains] == ["PROVIDER,OSCAR"]
    exact = amd.ok("lookupprofile", name="PROVIDER,", exactmatch="1")["profilelist"]
    assert exact["@itemcount"] == "0"
    by_code = amd.ok("lookupprofile", code="PALPH")["profilelist"]["profile"]
    assert by_code["@id"] == "prof101"


def test_lookup_rejects_two_criteria(amd: Amd):
    reply = amd.call("lookupprofile", name="PROVIDER", code="PALPH")
    assert fault_code(reply) == "-2147219455"


def test_lookupprovider(amd: Amd):
    provider = amd.ok("lookupprovider", name="PROVIDER,ALPHA")["providerlist"]["provider"]
    assert provider["@id"] == "mprov501" and provider["@code"].strip() == "PALPH"


def test_lookupfacility_both_classes(amd: Amd):
    records = amd.call("lookupfacility", "api", type="0")
    assert "Results" not in records
    assert len(records["record"]) == 5 and records["record"][0]["@facilityname"]
    lookup = amd.ok("lookupfacility", "lookup", exactmatch="-1", code="", page="1")
    facilities = lookup["facilitylist"]["facility"]
    assert len(facilities) == 5 and facilities[0]["@id"] == "fac1"
    one = amd.ok("selectfacility", "masterfiles", id="fac3")["facility"]
    assert one["@id"] == "fac3"


def test_getschedulersetup(amd: Amd):
    setup = amd.ok("getschedulersetup", "masterfiles")
    columns = setup["columnlist"]["column"]
    assert len(columns) == 22
    first = columns[0]
    assert first["@id"] == "col201" and first["@profile"] == "prof101"
    setting = first["columnsetting"]
    assert setting["@start"] == "07:00" and setting["@workweek"] == "0111110"
    assert len(setup["facilitylist"]["facility"]) == 5
    assert setup["pagelist"]["page"][0]["@columns"].startswith("col201 col203")


def test_getappttypes_and_reasons(amd: Amd):
    types = amd.ok("getappttypes", "masterfiles", appttype="")["appttypelist"]["appttype"]
    assert types[0]["@id"] == "ap_type11"
    assert types[0]["appttypesettings"]["@duration"] == "50"
    assert any(t["@name"].endswith("[DELETED]") for t in types)
    reasons = amd.ok("selectcancelreasons", "masterfiles")["cancelreasonlist"]["cancelreason"]
    assert {r["@type"] for r in reasons} == {"C", "N"}
    methods = amd.ok("selectconfmethod", "masterfiles")["confmethodlist"]["confmethod"]
    assert methods[0]["@id"] == "cm1"
