"""`make test` hands files to its two workers longest suite first (tests/conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import SUITES_LONGEST_FIRST, suite_rank

ROOT = Path(__file__).resolve().parents[2]


def test_stack_backed_suites_come_before_quick_ones_and_a_file_stays_together() -> None:
    nodeids = [
        "tests/unit/test_a.py::test_1",
        "tests/integration/sync/test_b.py::test_1",
        "tests/e2e/test_c.py::test_1",
        "tests/unit/test_a.py::test_2",
        "tests/e2e/test_c.py::test_2",
        "tests/somewhere_new/test_d.py::test_1",
    ]
    ordered = sorted(nodeids, key=suite_rank)
    assert ordered == [
        "tests/e2e/test_c.py::test_1",
        "tests/e2e/test_c.py::test_2",
        "tests/integration/sync/test_b.py::test_1",
        "tests/unit/test_a.py::test_1",
        "tests/unit/test_a.py::test_2",
        "tests/somewhere_new/test_d.py::test_1",
    ]


def test_every_suite_directory_is_ranked() -> None:
    suites = {f"tests/{p.parent.name}/" for p in (ROOT / "tests").glob("*/test_*.py")}
    suites |= {f"tests/{p.parts[-3]}/" for p in (ROOT / "tests").glob("*/*/test_*.py")}
    assert suites <= set(SUITES_LONGEST_FIRST)


def test_make_test_keeps_the_order_instead_of_xdists_most_tests_first() -> None:
    recipe = re.search(r"^test:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe is not None
    assert "--dist loadfile" in recipe.group(1)
    assert "--no-loadscope-reorder" in recipe.group(1)
