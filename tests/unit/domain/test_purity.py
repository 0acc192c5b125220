"""The domain package stays pure: no imports from other amdsync layers, no I/O libraries."""

import ast
import sys
from pathlib import Path

import pytest

import amdsync.domain

DOMAIN_DIR = Path(amdsync.domain.__file__).parent
MODULES = sorted(DOMAIN_DIR.glob("*.py"))
THIRD_PARTY_ALLOWED = {"pydantic", "pydantic_core"}
# Standard-library modules that reach the network, files, processes or the log pipeline.
IO_MODULES = {
    "asyncio",
    "http",
    "io",
    "logging",
    "os",
    "pathlib",
    "shutil",
    "socket",
    "ssl",
    "subprocess",
    "tempfile",
    "time",
    "urllib",
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_domain_module_imports_only_domain_and_pure_libraries(path):
    for name in _imports(path):
        if name.startswith("amdsync"):
            assert name.startswith("amdsync.domain"), f"{path.name} imports {name}"
            continue
        root = name.split(".")[0]
        assert root in THIRD_PARTY_ALLOWED or root in sys.stdlib_module_names, name
        assert root not in IO_MODULES, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_domain_modules_stay_small(path):
    # ARCHITECTURE §6: no module over ~400 lines without a reason.
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400
