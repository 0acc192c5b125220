"""`ppmdmsg` request builder and `PPMDResults` reply parser (PROTOCOL §1.2-§1.4, §7.1/13/14/19/20).

Replies are normalised into the Json.NET shape whatever the wire format: XML is converted with
the same rules AMD uses (attributes as `@name`, repeated elements as lists, empty elements as
None, mixed text as `#text`), so one set of readers serves both formats.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from amdsync.amd.errors import ClientBug, ServerError, normalise_code

Wire = dict[str, Any]

# XML 1.0 forbids most C0 controls; AMD replies sometimes carry them (§1.2: parse leniently).
_BAD_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_ID_PREFIX = re.compile(r"^[A-Za-z_]+")


def element(**attrs: object) -> Wire:
    """A child element in wire form: `element(id="5001")` -> `{"@id": "5001"}`."""
    return {f"@{name}": _wire_value(value) for name, value in attrs.items() if value is not None}


def build_request(
    action: str,
    cls: str,
    msgtime: str,
    attrs: Mapping[str, object] | None = None,
    children: Mapping[str, Any] | None = None,
) -> Wire:
    """Build a JSON `ppmdmsg` body. The token travels as a cookie (option A, §1.5), not here."""
    msg: Wire = {"@action": action, "@class": cls, "@msgtime": msgtime}
    if cls != "login":
        msg["@nocookie"] = "0"
    for name, value in (attrs or {}).items():
        if value is not None:
            msg[f"@{name}"] = _wire_value(value)
    msg.update(children or {})
    return {"ppmdmsg": msg}


def _wire_value(value: object) -> str:
    # AMD samples mix numbers and strings; strings are always accepted (§1.3).
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


# --- reply side -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fault:
    """A `PPMDResults.Error.Fault`. `description` is kept for classification only, never logged."""

    raw_code: str
    description: str

    @property
    def code(self) -> int | None:
        return normalise_code(self.raw_code)


@dataclass(frozen=True)
class Reply:
    root: Wire  # the PPMDResults object
    results: Wire  # Results, or the root itself for actions without a Results wrapper
    fault: Fault | None

    @property
    def success(self) -> bool | None:
        flag = text(self.results.get("@success"))
        return None if flag is None else flag == "1"


def parse_reply(body: bytes | str) -> Reply:
    """Parse a reply in either format (sniffed, §7.19) into a normalised `Reply`."""
    raw = body.decode("latin-1") if isinstance(body, bytes) else body
    raw = raw.lstrip("\ufeff").strip()
    if not raw:
        raise ServerError("AdvancedMD sent an empty reply")
    doc = _parse_xml(raw) if raw.startswith("<") else _parse_json(raw)
    root = _find_root(doc)
    results = root.get("Results")
    return Reply(
        root=root,
        results=results if isinstance(results, dict) else root,
        fault=_read_fault(root.get("Error")),
    )


def _parse_json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        # Bytes were decoded as latin-1 for leniency; a UTF-8 body with escapes still parses.
        raise ServerError("AdvancedMD sent an unreadable reply") from None


def _find_root(doc: Any) -> Wire:
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key.lower() == "ppmdresults":
                return value if isinstance(value, dict) else {}
    raise ServerError("AdvancedMD reply has no PPMDResults envelope")


def _read_fault(error: Any) -> Fault | None:
    if not isinstance(error, dict):
        return None
    fault = error.get("Fault")
    if not isinstance(fault, dict):
        return None
    detail = fault.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    code = text(detail.get("code")) or ""
    return Fault(raw_code=code, description=text(detail.get("description")) or "")


def _parse_xml(raw: str) -> Wire:
    if "<!DOCTYPE" in raw.upper():
        raise ClientBug("refusing an XML reply with a DOCTYPE")
    cleaned = _BAD_XML_CHARS.sub("", _XML_DECL.sub("", raw, count=1))
    try:
        top = ET.fromstring(cleaned)  # noqa: S314 - no DTDs, no entities (checked above)
    except ET.ParseError:
        raise ServerError("AdvancedMD sent malformed XML") from None
    return {_local(top.tag): _convert(top)}


def _local(tag: str) -> str:
    # `{www.perfectpractice.md}appt` -> `ppmd:appt`, the name Json.NET keeps (§1.3).
    if tag.startswith("{"):
        uri, _, name = tag[1:].partition("}")
        return f"ppmd:{name}" if "perfectpractice" in uri else name
    return tag


def _convert(node: ET.Element) -> Any:
    out: Wire = {f"@{_local(k)}": v for k, v in node.attrib.items()}
    for child in node:
        name = _local(child.tag)
        value = _convert(child)
        if name in out:
            existing = out[name]
            out[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[name] = value
    body = (node.text or "").strip()
    if not out:
        return body or None
    if body:
        out["#text"] = body
    return out


# --- normalising readers (§7.13-15) -----------------------------------------------------------
def as_list(value: Any) -> list[Wire]:
    """One item comes as an object, several as a list, none as None: always give a list."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return [value] if isinstance(value, dict) else []


def child(node: Any, *path: str) -> Any:
    """Walk nested elements, tolerating the `ppmd:` namespace prefix on either side."""
    current = node
    for name in path:
        if not isinstance(current, dict):
            return None
        current = current.get(name, current.get(f"ppmd:{name}"))
    return current


def text(value: Any) -> str | None:
    """A trimmed string value (AMD pads with spaces, §1.6); `#text` of a mixed element; or None."""
    if isinstance(value, dict):
        value = value.get("#text")
    if value is None:
        return None
    trimmed = str(value).strip()
    return trimmed or None


def attr(node: Any, name: str) -> str | None:
    return text(node.get(f"@{name}")) if isinstance(node, dict) else None


def strip_id(value: Any) -> str | None:
    """`pat148` -> `148`, `ap_type13` -> `13`, `5001` -> `5001` (prefixes optional, §1.6)."""
    raw = text(value)
    if raw is None:
        return None
    bare = _ID_PREFIX.sub("", raw)
    return bare or None
