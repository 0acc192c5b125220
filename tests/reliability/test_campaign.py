"""The fault campaign (see campaign.py): seeded schedules, then the invariants of invariants.py.

Quick profile (in `make test`): one seed of 150 operations, asserted to inject every fault kind
and to see each one the simulator counts fire. Full profile (`AMDSYNC_RELIABILITY=full`,
`make reliability`): three seeds of 400 (seed 1 again, at full length) and five of 2,000.
"""

from __future__ import annotations

import pytest

from local.amdsim.handle import SimHandle
from tests.reliability import invariants
from tests.reliability.campaign import SIM_FAULTS, Campaign, CampaignResult, Profile
from tests.reliability.world import Product

# Seed 1's first 150 operations inject every fault kind (the simulator's 429 first fires at
# operation 136); `assert_every_fault_kind` keeps that true if the schedule ever changes.
QUICK = [Profile(seed=1, operations=150)]
# Seeds 2 and 3 were quick ones until `make test` had to fit in 10 minutes; seed 1 ran 400.
LONG = [Profile(seed=seed, operations=400) for seed in (1, 2, 3)] + [
    Profile(seed=seed, operations=2000) for seed in (11, 12, 13, 14, 15)
]


# The simulator counts each of its faults in `faults_injected` when it fires.
COUNTED_BY_SIM = frozenset(SIM_FAULTS)
PRODUCT_FAULTS = ("worker_crash", "redelivery", "pull_crash")


def assert_every_fault_kind(result: CampaignResult) -> None:
    """Every kind was injected, the ones the simulator counts fired, and a crash happened."""
    assert set(result.faults) >= {*SIM_FAULTS, *PRODUCT_FAULTS}, dict(result.faults)
    fired = {kind for kind, count in result.report["faults_injected"].items() if count}
    assert fired >= COUNTED_BY_SIM, result.report["faults_injected"]
    assert result.crashes, "no worker or pull crash fired"


def check_campaign(product: Product, sim: SimHandle, profile: Profile) -> CampaignResult:
    result = Campaign(product, sim, profile).run()
    problems = invariants.check(product, sim, result)
    print(
        f"seed={profile.seed} ops={result.total_operations} appts={result.appointments} "
        f"faults={dict(result.faults)} crashes={dict(result.crashes)} "
        f"decisions={dict(result.decisions)} amd_edits={len(result.amd_edits)} "
        f"dead={len(result.dead_lettered)} wall={result.wall_seconds:.1f}s "
        f"sim={result.simulated_seconds / 3600:.1f}h problems={len(problems)}"
    )
    assert problems == [], "\n".join(problems[:40])
    assert sum(result.faults.values()) > 0 and result.amd_edits
    return result


@pytest.mark.parametrize("profile", QUICK, ids=lambda p: f"seed{p.seed}")
@pytest.mark.timeout(180)
def test_quick_campaign(product: Product, amd_sim: SimHandle, profile: Profile) -> None:
    assert_every_fault_kind(check_campaign(product, amd_sim, profile))


@pytest.mark.full
@pytest.mark.parametrize("profile", LONG, ids=lambda p: f"seed{p.seed}")
@pytest.mark.timeout(900)
def test_full_campaign(product: Product, amd_sim: SimHandle, profile: Profile) -> None:
    check_campaign(product, amd_sim, profile)
