"""Write the OpenAPI document generated from the routes: `python -m amdsync.web.openapi PATH`.

`docs/openapi.json` is this output, committed; a test fails when the two drift apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from amdsync.web.resolver import create_resolver, openapi_document


def document() -> dict[str, Any]:
    return openapi_document(create_resolver())


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path("docs/openapi.json")
    target.write_text(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
