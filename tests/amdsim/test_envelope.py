"""PPMDResults envelope, Json.NET conversion, content negotiation and strict validation."""

import pytest

from local.amdsim.envelope import El, EnvelopeError, el_to_json, parse_request, render
from tests.amdsim.helpers import Amd, fault_code, ppmd


def test_json_net_rules():
    root = El("r")
    one = root.add("one", {"a": "1"})
    one.add("empty")
    root.add("many", {"i": "1"})
    root.add("many", {"i": "2"})
    root.add("textonly", text="abc")
    root.add("mixed", {"x": "y"}, text="T")
    assert el_to_json(root) == {
        "one": {"@a": "1", "empty": None},
        "many": [{"@i": "1"}, {"@i": "2"}],
        "textonly": "abc",
        "mixed": {"@x": "y", "#text": "T"},
    }


def test_parse_request_json_and_xml_agree():
    from_json = parse_request(
        b'{"ppmdmsg": {"@action": "x", "@n": 5, "visit": [{"@id": "1"}, {"@id": "2"}]}}'
    )
    from_xml = parse_request(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>'
        b'<ppmdmsg action="x" n="5"><visit id="1"/><visit id="2"/></ppmdmsg>'
    )
    for msg in (from_json, from_xml):
        assert msg.attr("ACTION") == "x" and msg.attr("n") == "5"
        assert [v.attr("id") for v in msg.children_named("visit")] == ["1", "2"]


def test_parse_request_namespaced_and_latin1():
    msg = parse_request(
        '<ppmdmsg action="update"><ppmd:appt xmlns:ppmd="www.perfectpractice.md" id="5"/>'
        "<note>caf\xe9</note></ppmdmsg>".encode("latin-1")
    )
    assert msg.child("appt") is not None and msg.child("appt").attr("id") == "5"


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'{"PPMDResults": {}}', b'{"ppmdmsg": {}, "x": 1}', b"<other/>"],
)
def test_parse_request_rejects_wrong_envelopes(body):
    with pytest.raises(EnvelopeError):
        parse_request(body)


def test_render_xml_escapes_and_declares_latin1():
    root = El("PPMDResults")
    root.add("Results", {"name": 'A&B "C"'})
    body, ctype = render(root, as_json=False)
    assert ctype.startswith("text/xml")
    assert b"&amp;" in body and b"&quot;" in body
    assert body.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')


def test_reply_shape_string_values_and_server_attrs(amd: Amd):
    resp = amd.raw("lookupprofile", name="PROVIDER,ALPHA")
    data = resp.json()
    assert data["?xml"] == {"@version": "1.0", "@encoding": "ISO-8859-1"}
    reply = data["PPMDResults"]
    assert reply["@s"] and reply["@lst"]
    assert list(reply) == ["@s", "@lst", "Results", "Error"]
    profile = reply["Results"]["profilelist"]["profile"]
    assert isinstance(profile, dict)  # single item -> object, not a list
    assert profile["@id"] == "prof101" and profile["@code"] == "PALPH "  # prefixed, padded
    assert all(isinstance(v, str) for v in profile.values())


def test_xml_reply_when_accept_is_not_json(amd: Amd):
    resp = amd.post(amd.message("lookupprofile", name="PROVIDER,ALPHA"), headers={"Accept": "*/*"})
    assert resp.headers["content-type"].startswith("text/xml")
    assert '<profile id="prof101"' in resp.text


def test_malformed_envelope_is_a_violation(amd: Amd):
    resp = amd.http.post(
        amd.xmlrpc_url, content=b'{"ppmdmsg": ', headers={"Cookie": f"token={amd.token}"}
    )
    assert fault_code(ppmd(resp)) == "-2147219452"
    assert any("malformed envelope" in v for v in amd.violations())


def test_vendor_sample_mistakes_are_rejected(amd: Amd):
    body = {"ppmdmsg": {"_action": "lookupprofile", "@class": "api", "@msgtime": amd.msgtime()}}
    assert fault_code(ppmd(amd.post(body))) == "-2147219456"  # no @action
    assert any("action" in v for v in amd.violations())


def test_unknown_action_and_wrong_class(amd: Amd):
    reply = amd.call("lookupoffice", "api")
    assert fault_code(reply) == "-2147218416"
    reply = amd.call("getappttypes", "api")
    assert fault_code(reply) == "-2147218416"
    assert reply["Error"]["Fault"]["detail"]["description"] == "Action getappttypes not found."
    assert sum("unknown class/action" in v for v in amd.violations()) == 2


def test_action_names_are_case_insensitive(amd: Amd):
    assert amd.ok("LookUpProfile", name="PROVIDER,B")["profilelist"]["@itemcount"] == "1"


@pytest.mark.parametrize("msgtime", ["2025-03-12T05:00:00Z", "2025-03-12T05:00:00-06:00", "noon"])
def test_bad_msgtime_is_rejected(amd: Amd, msgtime: str):
    body = amd.message("lookupprofile", name="")
    body["ppmdmsg"]["@msgtime"] = msgtime
    assert fault_code(ppmd(amd.post(body))) == "-2147219455"
    assert any("msgtime" in v for v in amd.violations())


def test_msgtime_forms_accepted(amd: Amd):
    local = amd.now_local()
    for text in (
        local.strftime("%m/%d/%Y %I:%M:%S %p"),
        local.strftime("%m/%d/%Y %H:%M:%S"),
        local.strftime("%Y-%m-%dT%H:%M:%S"),
    ):
        body = amd.message("lookupprofile", name="")
        body["ppmdmsg"]["@msgtime"] = text
        assert fault_code(ppmd(amd.post(body))) is None
    assert amd.report()["violations"]["count"] == 0


def test_missing_msgtime_strict_by_default_and_switchable(amd: Amd):
    body = amd.message("lookupprofile", name="")
    del body["ppmdmsg"]["@msgtime"]
    assert fault_code(ppmd(amd.post(body))) == "-2147219456"
    amd.h.admin.config(require_msgtime=False)
    assert fault_code(ppmd(amd.post(body))) is None


def test_msgtime_skew_warns_or_rejects(amd: Amd):
    body = amd.message("lookupprofile", name="")
    body["ppmdmsg"]["@msgtime"] = "3/12/2025 11:00:00 AM"  # UTC wall time sent as local
    assert fault_code(ppmd(amd.post(body))) is None
    assert amd.report()["msgtime_skew_warnings"] == 1
    amd.h.admin.config(msgtime_skew_rejects=True)
    assert fault_code(ppmd(amd.post(body))) == "-2147219455"


def test_non_login_call_to_partner_url_is_rejected(amd: Amd):
    resp = amd.http.post(
        amd.h.partner_login_url,
        json=amd.message("lookupprofile", name=""),
        headers={"Cookie": f"token={amd.token}"},
    )
    assert fault_code(ppmd(resp)) == "-2147219453"


def test_get_on_xmlrpc_is_405_and_unknown_path_404(amd: Amd):
    assert amd.http.get(amd.xmlrpc_url).status_code == 405
    assert amd.http.get(amd.h.base_url + "/nothing/here").status_code == 404


def test_apicost_reports_tiers(amd: Amd):
    cost = amd.http.get(amd.h.base_url + "/apicost/api/getupdatedvisits").json()
    assert cost["tier"] == 1
    assert amd.http.get(amd.h.base_url + "/apicost/api/getdatevisits").json()["tier"] == 2
