"""The tier a call is counted under (the AmdCalls metric's dimension)."""

import pytest

from amdsync.amd.tiers import REST_BUDGETS, budgets_for_action, tier_of


@pytest.mark.parametrize(
    ("action", "tier"),
    [("getupdatedvisits", "T1"), ("getdatevisits", "T2"), ("login", "T3"), ("lookupprofile", "T3")],
)
def test_each_call_is_counted_under_its_tier(action, tier):
    assert tier_of(budgets_for_action(action)) == tier


def test_rest_calls_are_counted_as_tier_2():
    assert tier_of(REST_BUDGETS) == "T2"
