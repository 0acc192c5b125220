"""lookuppatient, getdemographic, addpatient, updatepatient (PROTOCOL §3.4-§3.7)."""

from tests.amdsim.helpers import Amd, as_list, fault_code

NEW_PATIENT = {
    "@respparty": "SELF",
    "@name": "Newcomer,Zulu",
    "@sex": "F",
    "@dob": "02/03/1990",
    "@relationship": "1",
    "@hipaarelationship": "18",
    "@chart": "AUTO",
    "@profile": "prof101",
    "@finclass": "",
    "@insorder": "",
    "@additionalmrn": "EHR-0001",
    "address": {"@zip": "84000", "@city": "Testville", "@state": "UT", "@address2": "1 Main"},
    "contactinfo": {"@homephone": "(555) 010-1234", "@email": "zulu@example.invalid"},
}


def add(amd: Amd, force: bool = False, **override: str) -> dict:
    patient = {**NEW_PATIENT, **{f"@{k}": v for k, v in override.items()}}
    extra = {"force": "1"} if force else {}
    return amd.call(
        "addpatient",
        patientlist={"patient": patient},
        resppartylist={"respparty": {"@name": "self", "@accttype": "4"}},
        **extra,
    )


def test_lookuppatient_paging(amd: Amd):
    first = amd.ok("lookuppatient", name="TESTER", exactmatch="-1")["patientlist"]
    assert first["@itemcount"] == "10" and first["@pagecount"] == "1"
    everyone = amd.ok("lookuppatient", name="", page="1")["patientlist"]
    assert everyone["@itemcount"] == "200" and everyone["@pagecount"] == "4"
    assert len(everyone["patient"]) == 50
    page3 = amd.ok("lookuppatient", name="", page="3")["patientlist"]
    assert (page3["@page"], page3["@itemsfrom"], page3["@itemsto"]) == ("3", "101", "150")
    assert page3["patient"][0]["@id"] != everyone["patient"][0]["@id"]


def test_lookuppatient_criteria(amd: Amd):
    one = amd.ok("lookuppatient", name="TESTER,ALPHA", exactmatch="1")["patientlist"]["patient"]
    assert one["@id"] == "pat1001" and one["@ssn"] == " " * 9
    pid = one["@id"][3:]
    detail = amd.h.admin.patient(int(pid))
    by_chart = amd.ok("lookuppatient", chart=detail["chart"], exactmatch="1")["patientlist"]
    assert by_chart["patient"]["@id"] == "pat1001"
    phone = detail["contactinfo"]["homephone"].replace("(", "").replace(")", "").replace(" ", "")
    by_phone = amd.ok("lookuppatient", phone=phone.replace("-", ""))["patientlist"]
    assert "pat1001" in [p["@id"] for p in as_list(by_phone["patient"])]
    by_dob = amd.ok("lookuppatient", dob=detail["dob"])["patientlist"]
    assert "pat1001" in [p["@id"] for p in as_list(by_dob["patient"])]
    none = amd.ok("lookuppatient", name="NOBODY,HERE")["patientlist"]
    assert none["@itemcount"] == "0" and "patient" not in none


def test_getdemographic(amd: Amd):
    patient = amd.ok("getdemographic", patientid="1001")["patientlist"]["patient"]
    assert patient["@id"] == "pat1001" and patient["@name"] == "TESTER,ALPHA"
    assert patient["@profile"].startswith("prof")
    again = amd.ok("getdemographic", "demographics", patientid="pat1001")
    assert again["patientlist"]["patient"]["@id"] == "pat1001"
    assert fault_code(amd.call("getdemographic", patientid="99999")) == "-2147219455"


def test_addpatient_uppercases_and_assigns_chart(amd: Amd):
    reply = add(amd)
    assert fault_code(reply) is None
    patient = reply["Results"]["patientlist"]["patient"]
    assert patient["@name"] == "NEWCOMER,ZULU"
    assert patient["@chart"].strip() == patient["@id"][3:]
    assert patient["address"]["@city"] == "TESTVILLE"
    assert patient["contactinfo"]["@email"] == "zulu@example.invalid"
    assert reply["Results"]["resppartylist"]["respparty"]["@accttype"] == "4"
    found = amd.ok("lookuppatient", name="NEWCOMER,ZULU")["patientlist"]["patient"]
    assert found["@id"] == patient["@id"]


def test_addpatient_requires_minimum_fields(amd: Amd):
    for field in ("chart", "relationship", "hipaarelationship", "profile"):
        reply = add(amd, **{field: ""})
        assert fault_code(reply) == "-2147219456", field
    assert fault_code(add(amd, name="NOCOMMA")) == "-2147219455"
    assert fault_code(add(amd, insorder="1")) == "-2147219455"
    assert amd.report()["violations"]["count"] == 6


def test_addpatient_duplicates_and_force(amd: Amd):
    assert fault_code(add(amd, ssn="900-00-0001")) is None
    assert fault_code(add(amd)) == "-2147217400"  # name + DOB
    assert fault_code(add(amd, name="OTHER,NAME", ssn="900000001")) == "-2147217401"
    assert fault_code(add(amd, name="OTHER,NAME", chart="1001")) == "-2147217399"
    assert amd.report()["duplicate_patients"] == 0
    assert fault_code(add(amd, force=True)) is None
    report = amd.report()
    assert report["duplicate_patients"] == 1
    assert report["violations"]["count"] == 0  # duplicates are business faults


def test_updatepatient_with_old_values(amd: Amd):
    update = {
        "@id": "1001",
        "@o_additionalmrn": "",
        "@additionalmrn": "EHR-9",
        "contactinfo": {
            "@o_email": "alpha.tester1001@example.invalid",
            "@email": "new@example.invalid",
        },
    }
    reply = amd.call("updatepatient", patientlist={"patient": update})
    assert fault_code(reply) is None
    after = amd.h.admin.patient(1001)
    assert after["additionalmrn"] == "EHR-9"
    assert after["contactinfo"]["email"] == "new@example.invalid"


def test_updatepatient_4106_after_someone_else_edits(amd: Amd):
    amd.h.admin.edit_patient(1001, address2="9 OTHER ROAD")
    current = amd.h.admin.patient(1001)
    update = {"@id": "1001", "address": {"@o_address2": "1 OLD ROAD", "@address2": "2 NEW ST"}}
    reply = amd.call("updatepatient", patientlist={"patient": update})
    assert fault_code(reply) == "-2147217398"
    assert amd.h.admin.patient(1001)["address"] == current["address"]
    forced = {"@id": "1001", "address": {"@address2": "2 NEW ST"}}
    assert fault_code(amd.call("updatepatient", patientlist={"patient": forced})) is not None
    reply = amd.call("updatepatient", force="1", patientlist={"patient": forced})
    assert fault_code(reply) is None
    assert amd.h.admin.patient(1001)["address"]["address2"] == "2 NEW ST"


def test_updatepatient_rejects_unknown_fields(amd: Amd):
    update = {"@id": "1001", "@favouritecolour": "RED", "@o_favouritecolour": ""}
    assert fault_code(amd.call("updatepatient", patientlist={"patient": update})) == "-2147219455"
