"""AdvancedMD fault codes as they appear on the wire (PROTOCOL §5), and the exception that
handlers raise to produce them."""

from __future__ import annotations

from .envelope import El, Fault

LOGIN_REDIRECT = "-2147220476"  # 1028
BAD_CREDENTIALS = "-2147220480"  # 1024
SESSION_TIMEOUT = "-2147220479"  # 1025
REDIRECT_TWICE = "-2147218414"  # 3090
MISSING_ATTRIBUTE = "-2147219456"  # 2048 (also the "invalid user context" lapse)
INVALID_ATTRIBUTE = "-2147219455"  # 2049
MISSING_ELEMENT = "-2147219454"  # 2050
INVALID_ELEMENT = "-2147219453"  # 2051
PARSE_ERROR = "-2147219452"  # 2052
PERMISSION_DENIED = "-2147218419"  # 3085
ACTION_NOT_FOUND = "-2147218416"  # 3088
OVERLAP = "-2147217403"  # 4101
DUP_SSN = "-2147217401"  # 4103
DUP_NAME_DOB = "-2147217400"  # 4104
DUP_CHART = "-2147217399"  # 4105
RECORD_CHANGED = "-2147217398"  # 4106
CANNOT_CHECKOUT = "-2147217394"  # 4110
INVALID_VISIT = "-2147217374"  # 4130
OVER_1000 = "-2147217350"  # 4154
BAD_REQUEST = "400"
TOO_MANY_REQUESTS = "429"

LAPSE_DESCRIPTION = "Invalid user context. The session is no longer valid; please log in again."


class PPMDFault(Exception):
    """Raised by handlers; rendered as `PPMDResults/Error/Fault`.

    `violation` names the protocol rule the client broke, when the fault is the client's fault
    in the sense of the report (not an expected business outcome such as a duplicate)."""

    def __init__(
        self,
        code: str,
        description: str,
        *,
        faultcode: str = "Client",
        violation: str | None = None,
        extrainfo: El | str | None = None,
        results: El | None = None,
        http_status: int = 200,
    ) -> None:
        super().__init__(description)
        self.fault = Fault(code, description, faultcode=faultcode, extrainfo=extrainfo)
        self.violation = violation
        self.results = results
        self.http_status = http_status


def missing(attr: str, where: str = "ppmdmsg") -> PPMDFault:
    return PPMDFault(
        MISSING_ATTRIBUTE,
        f"Missing required attribute '{attr}' on {where}.",
        violation=f"missing required attribute {where}/@{attr}",
    )


def invalid(attr: str, value: str, why: str = "") -> PPMDFault:
    suffix = f": {why}" if why else ""
    return PPMDFault(
        INVALID_ATTRIBUTE,
        f"Invalid value for attribute '{attr}'{suffix}.",
        violation=f"invalid value for @{attr}{suffix}",
    )


def privilege_fault(action: str, username: str, office_key: str) -> PPMDFault:
    extra = El("permissiondetails")
    extra.attrs = {
        "explanation": "This privilege has been denied to this user",
        "user": username,
        "licensekey": office_key,
        "rolename": "ADMIN",
    }
    fault = PPMDFault(PERMISSION_DENIED, f"{action} privilege", faultcode="Server", extrainfo=extra)
    fault.fault.cls = "PermissionUtil"
    fault.fault.method = "GetPermissionDeniedMessage"
    return fault


def too_many_requests(seconds: int) -> PPMDFault:
    return PPMDFault(
        TOO_MANY_REQUESTS,
        f"Too Many Requests. Rate limit is exceeded. Try again in {seconds} seconds.",
        faultcode="Client",
        http_status=429,
    )
