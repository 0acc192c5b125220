"""The fault campaign (see campaign.py): seeded schedules, then the invariants of invariants.py.

Quick profile (in `make test`): one seed of 400 operations. Full profile
(`AMDSYNC_RELIABILITY=full`, `make reliability`): two more seeds of 400 and five of 2,000.
"""

from __future__ import annotations

import pytest

from local.amdsim.handle import SimHandle
from tests.reliability import invariants
from tests.reliability.campaign import Campaign, Profile
from tests.reliability.world import Product

QUICK = [Profile(seed=1, operations=400)]
# Seeds 2 and 3 were quick ones until `make test` had to fit in 10 minutes.
LONG = [Profile(seed=seed, operations=400) for seed in (2, 3)] + [
    Profile(seed=seed, operations=2000) for seed in (11, 12, 13, 14, 15)
]


def check_campaign(product: Product, sim: SimHandle, profile: Profile) -> None:
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


@pytest.mark.parametrize("profile", QUICK, ids=lambda p: f"seed{p.seed}")
@pytest.mark.timeout(180)
def test_quick_campaign(product: Product, amd_sim: SimHandle, profile: Profile) -> None:
    check_campaign(product, amd_sim, profile)


@pytest.mark.full
@pytest.mark.parametrize("profile", LONG, ids=lambda p: f"seed{p.seed}")
@pytest.mark.timeout(900)
def test_full_campaign(product: Product, amd_sim: SimHandle, profile: Profile) -> None:
    check_campaign(product, amd_sim, profile)
