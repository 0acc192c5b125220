"""Two-step login, token transports, token lifetime and expiry faults (PROTOCOL §1.5, §2)."""

import httpx

from local.amdsim.handle import SimHandle
from tests.amdsim.helpers import Amd, fault_code, ppmd


def test_two_step_login_redirects_then_issues_token(amd_sim: SimHandle, http: httpx.Client):
    client = Amd(amd_sim, http)
    body = client.login_body()
    first = http.post(amd_sim.partner_login_url, json=body)
    assert first.status_code == 200
    step1 = ppmd(first)
    assert step1["Results"]["@success"] == "0"
    ctx = step1["Results"]["usercontext"]
    assert "#text" not in ctx
    assert ctx["@webserver"] == f"{amd_sim.base_url}/processrequest/{amd_sim.api_host}/TEMP"
    fault = step1["Error"]["Fault"]
    assert fault["faultcode"] == "Client"
    assert fault["detail"]["code"] == "-2147220476"
    second = ppmd(http.post(ctx["@webserver"] + "/xmlrpc/processrequest.aspx", json=body))
    assert second["Results"]["@success"] == "1"
    token = second["Results"]["usercontext"]["#text"]
    assert token.startswith("999999") and len(token) == 6 + 64
    assert second["Error"] is None
    report = amd_sim.admin.report()
    assert report["logins"] == 1
    assert report["login_redirects"] == 1


def test_host_segment_is_not_api_000(amd_sim: SimHandle):
    assert amd_sim.api_host != "api-000"


def test_hard_coded_webserver_gets_redirect_twice_fault(amd_sim: SimHandle, http: httpx.Client):
    client = Amd(amd_sim, http)
    url = f"{amd_sim.base_url}/processrequest/api-000/TEMP/xmlrpc/processrequest.aspx"
    reply = ppmd(http.post(url, json=client.login_body()))
    assert fault_code(reply) == "-2147218414"
    assert amd_sim.admin.report()["violations"]["count"] == 1


def test_moved_office_key_breaks_old_webserver(amd: Amd):
    amd.h.admin.config(api_host="api-222")
    resp = amd.raw("lookupprofile", name="")
    assert resp.status_code == 404
    new = Amd(amd.h, amd.http)
    amd.h.admin.advance(61)
    new.login()
    assert "/api-222/" in new.webserver


def test_bad_credentials(amd_sim: SimHandle, http: httpx.Client):
    client = Amd(amd_sim, http)
    for override in ({"psw": "wrong"}, {"officecode": "111111"}, {"appname": "API"}):
        reply = ppmd(http.post(amd_sim.partner_login_url, json=client.login_body(**override)))
        assert fault_code(reply) == "-2147220480"
    assert amd_sim.admin.report()["login_failures"] == 3


def test_login_reply_is_xml_without_accept_json(amd_sim: SimHandle):
    client = Amd(amd_sim, httpx.Client())
    resp = client.http.post(amd_sim.partner_login_url, json=client.login_body())
    assert resp.headers["content-type"].startswith("text/xml")
    assert resp.text.startswith('<?xml version="1.0" encoding="ISO-8859-1"?><PPMDResults')
    assert "<code>-2147220476</code>" in resp.text


def test_login_always_xml_switch(amd_sim: SimHandle, http: httpx.Client):
    amd_sim.admin.config(login_always_xml=True)
    client = Amd(amd_sim, http)
    resp = http.post(amd_sim.partner_login_url, json=client.login_body())
    assert resp.text.startswith("<?xml")


def test_relogin_within_a_minute_while_token_valid_is_429(amd: Amd):
    resp = amd.http.post(amd.xmlrpc_url, json=amd.login_body())
    assert resp.status_code == 429
    assert fault_code(ppmd(resp)) == "429"
    report = amd.report()
    assert report["http_429"] == 1
    assert any("login again" in v for v in amd.violations())
    amd.h.admin.advance(61)
    assert ppmd(amd.http.post(amd.xmlrpc_url, json=amd.login_body()))["Results"]["@success"] == "1"


def test_new_login_supersedes_old_token(amd: Amd):
    old = amd.token
    amd.h.admin.advance(61)
    amd.login()
    amd.token, new = old, amd.token
    assert fault_code(amd.call("lookupprofile", name="")) == "-2147220479"
    amd.token = new
    assert fault_code(amd.call("lookupprofile", name="")) is None


def test_old_tokens_survive_when_switch_off(amd: Amd):
    amd.h.admin.config(login_invalidates_old_tokens=False)
    old = amd.token
    amd.h.admin.advance(61)
    amd.login()
    amd.token = old
    assert fault_code(amd.call("lookupprofile", name="")) is None


def test_token_in_usercontext_string_text_or_object(amd: Amd):
    token = amd.token
    forms = [token, {"#text": token}, {"@webserver": amd.webserver, "#text": token}]
    for form in forms:
        body = {
            "ppmdmsg": {
                "usercontext": form,
                "@action": "lookupprofile",
                "@class": "api",
                "@msgtime": amd.msgtime(),
                "@nocookie": "1",
                "@name": "",
            }
        }
        reply = ppmd(amd.http.post(amd.xmlrpc_url, json=body))
        assert fault_code(reply) is None, reply


def test_usercontext_must_come_first(amd: Amd):
    body = {
        "ppmdmsg": {
            "@action": "lookupprofile",
            "@class": "api",
            "@msgtime": amd.msgtime(),
            "@nocookie": "1",
            "@name": "",
            "patient": {"@name": "Name"},
            "usercontext": amd.token,
        }
    }
    reply = ppmd(amd.http.post(amd.xmlrpc_url, json=body))
    assert fault_code(reply) == "-2147219456"
    assert any("malformed token" in v for v in amd.violations())


def test_xml_request_with_usercontext_token(amd: Amd):
    xml = (
        f'<ppmdmsg action="lookupprofile" class="api" msgtime="{amd.msgtime()}" nocookie="1">'
        f"<usercontext>{amd.token}</usercontext></ppmdmsg>"
    )
    resp = amd.http.post(
        amd.xmlrpc_url, content=xml.encode("iso-8859-1"), headers={"Accept": "text/xml"}
    )
    assert resp.status_code == 200
    assert "<profilelist" in resp.text and "<Error/>" in resp.text


def test_xml_request_without_usercontext_text_is_http_400(amd: Amd):
    xml = f'<ppmdmsg action="lookupprofile" class="api" msgtime="{amd.msgtime()}" nocookie="1"/>'
    resp = amd.http.post(amd.xmlrpc_url, content=xml.encode())
    assert resp.status_code == 400
    assert "Improperly Formatted Token" in resp.text


def test_missing_and_unknown_tokens(amd: Amd):
    good = amd.token
    amd.token = ""
    assert fault_code(amd.call("lookupprofile", name="")) == "-2147219456"
    amd.token = "999999" + "0" * 64
    assert fault_code(amd.call("lookupprofile", name="")) == "-2147219456"
    amd.token = good
    reasons = amd.violations()
    assert "missing token" in reasons and "unknown token" in reasons


def test_token_expires_after_24_hours(amd: Amd):
    amd.h.admin.advance(24 * 3600 - 5)
    assert fault_code(amd.call("lookupprofile", name="")) is None
    amd.h.admin.advance(10)
    reply = amd.call("lookupprofile", name="")
    assert fault_code(reply) == "-2147220479"
    assert reply["Error"]["Fault"]["faultcode"] == "Server"
    assert amd.rest("GET", "/scheduler/Appointments/5001").status_code == 401
    report = amd.report()
    assert report["expired_token_uses"] == 2
    assert any(v.startswith("stale token") for v in amd.violations())
    amd.login()  # no valid token any more: allowed at once
    assert fault_code(amd.call("lookupprofile", name="")) is None


def test_lifetime_is_configurable_and_lapse_variant(amd: Amd):
    amd.h.admin.config(token_lifetime_seconds=3600, expiry_fault="lapse")
    amd.h.admin.advance(61)
    amd.login()
    amd.h.admin.advance(3601)
    reply = amd.call("lookupprofile", name="")
    assert fault_code(reply) == "-2147219456"
    assert "user context" in reply["Error"]["Fault"]["detail"]["description"].lower()


def test_midnight_expiry_switch(amd: Amd):
    amd.h.admin.config(token_midnight_expiry=True)
    amd.h.admin.advance(61)
    amd.login()  # 05:01 local -> expires at the next local midnight, before 24 h
    amd.h.admin.advance(19 * 3600)
    assert fault_code(amd.call("lookupprofile", name="")) == "-2147220479"


def test_rest_requires_bearer(amd: Amd):
    resp = amd.http.get(amd.rest_base + "/scheduler/Appointments/5001")
    assert resp.status_code == 401
    assert amd.rest("GET", "/scheduler/Appointments/5001").status_code == 200


def test_a_session_amd_ends_early_is_learnt_without_a_violation(amd: Amd):
    assert fault_code(amd.call("lookupprofile", name="")) is None
    amd.h.admin.expire_tokens()
    assert fault_code(amd.call("lookupprofile", name="")) == "-2147220479"
    assert amd.rest("GET", "/scheduler/Appointments/5001").status_code == 401
    report = amd.report()
    assert report["expired_token_uses"] == 2
    assert not any(v.startswith("stale token") for v in amd.violations())
