import json

import pytest

from amdsync.amd.envelope import (
    as_list,
    attr,
    build_request,
    child,
    element,
    parse_reply,
    strip_id,
    text,
)
from amdsync.amd.errors import ClientBug, ServerError


def test_request_has_action_class_msgtime_and_string_values():
    body = build_request(
        "getdatevisits",
        "api",
        "3/14/2025 9:05:00 AM",
        {"visitdate": "3/14/2025", "page": 1, "flag": True, "skip": None},
        {"visit": element(duration="Duration", missing=None)},
    )
    msg = body["ppmdmsg"]
    assert msg["@action"] == "getdatevisits"
    assert msg["@class"] == "api"
    assert msg["@msgtime"] == "3/14/2025 9:05:00 AM"
    assert msg["@nocookie"] == "0"
    assert msg["@page"] == "1" and msg["@flag"] == "1"
    assert "@skip" not in msg
    assert msg["visit"] == {"@duration": "Duration"}
    assert "PPMDResults" not in json.dumps(body)


def test_login_request_carries_no_nocookie_flag():
    msg = build_request("login", "login", "t", {"username": "U"})["ppmdmsg"]
    assert "@nocookie" not in msg and msg["@username"] == "U"


JSON_REPLY = {
    "?xml": {"@version": "1.0", "@encoding": "ISO-8859-1"},
    "PPMDResults": {
        "@s": "srv",
        "Results": {"@success": "1", "visitlist": {"visit": {"@id": "vst5001"}}},
        "Error": None,
    },
}


def test_json_reply_with_xml_declaration_sibling():
    reply = parse_reply(b"  \n" + json.dumps(JSON_REPLY).encode())
    assert reply.fault is None
    assert reply.success is True
    assert as_list(child(reply.results, "visitlist", "visit"))[0]["@id"] == "vst5001"


def test_xml_reply_is_converted_like_json_net():
    xml = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        '<PPMDResults s="srv"><Results success="1">'
        '<usercontext webserver="https://h/processrequest/api-1/APP">TOKEN123</usercontext>'
        '<visitlist><visit id="1"/><visit id="2"/></visitlist>'
        "<chargelist/><code>-1</code>"
        "</Results><Error/></PPMDResults>"
    )
    reply = parse_reply(xml.encode("latin-1"))
    ctx = child(reply.results, "usercontext")
    assert ctx == {"@webserver": "https://h/processrequest/api-1/APP", "#text": "TOKEN123"}
    assert [v["@id"] for v in as_list(child(reply.results, "visitlist", "visit"))] == ["1", "2"]
    assert reply.results["chargelist"] is None
    assert reply.results["code"] == "-1"
    assert reply.fault is None


def test_xml_with_stray_bytes_and_namespace_is_read_leniently():
    xml = (
        b'<PPMDResults><Results><apptlist xmlns:ppmd="www.perfectpractice.md">'
        b'<ppmd:appt id="appt9" note="caf\xe9\x01"/></apptlist></Results></PPMDResults>'
    )
    reply = parse_reply(xml)
    appt = child(reply.results, "apptlist", "appt")
    assert attr(appt, "id") == "appt9"
    assert attr(appt, "note") == "caf\u00e9"


def test_xml_fault_is_read():
    xml = (
        "<PPMDResults><Results success='0'/><Error><Fault><faultcode>Client</faultcode>"
        "<detail><code>-2147220479</code><description>expired</description>"
        "<extrainfo><secret psw='x'/></extrainfo></detail></Fault></Error></PPMDResults>"
    )
    reply = parse_reply(xml)
    assert reply.fault is not None
    assert reply.fault.code == 1025
    assert reply.success is False


def test_doctype_is_refused():
    with pytest.raises(ClientBug):
        parse_reply('<!DOCTYPE x [<!ENTITY a "b">]><PPMDResults/>')


@pytest.mark.parametrize("body", [b"", b"   ", b"{not json", b"<PPMDResults><x></PPMDResults>"])
def test_unreadable_replies_are_transient_server_errors(body):
    with pytest.raises(ServerError):
        parse_reply(body)


def test_reply_without_envelope_is_rejected():
    with pytest.raises(ServerError):
        parse_reply(b'{"ppmdmsg": {}}')


def test_records_without_results_wrapper_fall_back_to_root():
    reply = parse_reply(json.dumps({"PPMDResults": {"record": [{"@uid": "fac1"}]}}))
    assert reply.results is reply.root
    assert as_list(reply.results["record"])[0]["@uid"] == "fac1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, []), ("", []), ({"a": 1}, [{"a": 1}]), ([{"a": 1}, {"b": 2}], [{"a": 1}, {"b": 2}])],
)
def test_as_list_normalises_single_array_and_null(value, expected):
    assert as_list(value) == expected


@pytest.mark.parametrize(
    ("raw", "bare"),
    [
        ("pat148", "148"),
        ("mprov14", "14"),
        ("ap_type13", "13"),
        ("vst5001", "5001"),
        ("5001", "5001"),
        (" col7  ", "7"),
        ("", None),
        (None, None),
    ],
)
def test_strip_id(raw, bare):
    assert strip_id(raw) == bare


def test_text_trims_padding_and_reads_mixed_text():
    assert text("ORANGE       ") == "ORANGE"
    assert text({"#text": " T "}) == "T"
    assert text("   ") is None
