import pytest

from amdsync.amd.errors import (
    AccessDenied,
    AlreadyCheckedOut,
    AppointmentConflict,
    AuthenticationFailed,
    ClientBug,
    ConcurrentEdit,
    DuplicatePatient,
    Family,
    NotFound,
    PermanentError,
    RateLimited,
    ServerError,
    SessionExpired,
    TimeoutError_,
    TransientError,
    classify_fault,
    classify_http,
    normalise_code,
)


@pytest.mark.parametrize(
    ("wire", "table"),
    [("-2147220479", 1025), ("-2147217350", 4154), (1025, 1025), ("429", 429), ("x", None)],
)
def test_normalise_code(wire, table):
    assert normalise_code(wire) == table


# Every row of PROTOCOL §5.2, by wire code.
@pytest.mark.parametrize(
    ("code", "description", "expected", "family"),
    [
        ("-2147220480", "", AuthenticationFailed, Family.PERMANENT),
        ("-2147220479", "", SessionExpired, Family.SESSION_EXPIRED),
        ("-2147219456", "Invalid user context", SessionExpired, Family.SESSION_EXPIRED),
        ("-2147219456", "missing attribute visitdate", ClientBug, Family.PERMANENT),
        ("-2147219451", "", ClientBug, Family.PERMANENT),
        ("-2147220478", "", AccessDenied, Family.PERMANENT),
        ("-2147218414", "", ClientBug, Family.PERMANENT),
        ("-2147218419", "view updated visits", AccessDenied, Family.PERMANENT),
        ("-2147218416", "Action x not found.", ClientBug, Family.PERMANENT),
        ("-2147217370", "", AccessDenied, Family.PERMANENT),
        ("-2147218407", "", TransientError, Family.TRANSIENT),
        ("-2147217403", "", AppointmentConflict, Family.BUSINESS),
        ("4117", "", AppointmentConflict, Family.BUSINESS),
        ("4155", "", AppointmentConflict, Family.BUSINESS),
        ("4185", "", AppointmentConflict, Family.BUSINESS),
        ("4186", "", AppointmentConflict, Family.BUSINESS),
        ("4126", "", AppointmentConflict, Family.BUSINESS),
        ("4112", "", AppointmentConflict, Family.BUSINESS),
        ("-2147217401", "", DuplicatePatient, Family.BUSINESS),
        ("-2147217400", "", DuplicatePatient, Family.BUSINESS),
        ("-2147217399", "", DuplicatePatient, Family.BUSINESS),
        ("-2147217398", "", ConcurrentEdit, Family.BUSINESS),
        ("-2147217394", "", AlreadyCheckedOut, Family.BUSINESS),
        ("-2147217374", "", NotFound, Family.BUSINESS),
        ("429", "", RateLimited, Family.RATE_LIMITED),
        ("400", "", ClientBug, Family.PERMANENT),
        ("-1", "", PermanentError, Family.PERMANENT),
    ],
)
def test_fault_codes_map_to_one_family(code, description, expected, family):
    error = classify_fault(code, description)
    assert type(error) is expected
    assert error.family is family
    assert error.retryable is (family is Family.TRANSIENT)


@pytest.mark.parametrize("code", ["-2147220476", "-2147217350", "1028", "4154"])
def test_redirect_and_overflow_are_data_not_failures(code):
    assert classify_fault(code, "") is None


def test_messages_never_echo_amd_free_text():
    error = classify_fault("-2147217400", "Duplicate patient DOE,JANE 01/02/1980")
    assert "DOE" in "Duplicate patient DOE,JANE" and "DOE" not in str(error)
    assert "4104" in str(error)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, SessionExpired),
        (403, AccessDenied),
        (404, NotFound),
        (408, TimeoutError_),
        (429, RateLimited),
        (400, ClientBug),
        (500, ServerError),
        (503, ServerError),
        (422, ClientBug),
    ],
)
def test_http_status_classification(status, expected):
    assert type(classify_http(status)) is expected


def test_success_statuses_are_not_errors():
    assert classify_http(200) is None and classify_http(201) is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"errorCode": 4101, "message": "Overlaps existing appointment."}, 4101),
        ({"detail": {"code": "4186"}}, 4186),
        ([{"text": "Error 4155: outside hours"}], 4155),
        ({"message": "conflict"}, None),
        (None, None),
    ],
)
def test_409_body_is_scanned_for_the_41xx_code(body, code):
    error = classify_http(409, body)
    assert isinstance(error, AppointmentConflict)
    assert error.amd_code == code
    assert not error.retryable


def test_409_with_a_checkout_code_keeps_its_own_meaning():
    assert type(classify_http(409, {"code": 4110})) is AlreadyCheckedOut


def test_rate_limited_carries_wait_and_origin():
    error = RateLimited(12.5, from_server=True)
    assert error.retry_after == 12.5 and error.from_server
    assert "12.5" in str(error)
