"""The campaign's invariants can fail: with create idempotency broken, a worker that dies
between AMD's booking and our write books again on redelivery, and `invariants.check` says so.

Two ways to break it, each must be caught: `_find_existing` never finds (no look-up by
reference id), and the create intent never written (so the look-up is skipped as "never
asked AMD").
"""

from __future__ import annotations

from typing import Any

import pytest

from amdsync.sync.push import AppointmentPush
from local.amdsim.handle import SimHandle
from tests.reliability import invariants
from tests.reliability.campaign import Campaign, Profile
from tests.reliability.world import Product


def _crash_after_booking(product: Product, sim: SimHandle) -> list[str]:
    campaign = Campaign(product, sim, Profile(seed=99, operations=0))
    campaign._setup()
    while product.queue.depth():  # the patients first
        campaign.work(10)
    for _ in range(4):
        campaign.create()
    campaign.plan.arm(1, only="amd.book")  # the process dies right after AMD booked
    campaign.work(10)
    campaign.plan.disarm()
    result = campaign.run()  # 0 further operations: quiesce, then the report
    assert campaign.plan.fired["amd.book"] == 1
    return invariants.check(product, sim, result)


def test_intact_product_survives_the_crash(product: Product, amd_sim: SimHandle) -> None:
    assert _crash_after_booking(product, amd_sim) == []


def test_lookup_removed_is_caught(
    product: Product, amd_sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AppointmentPush, "_find_existing", lambda *_args: None)
    problems = _crash_after_booking(product, amd_sim)
    assert any("owned by no record" in p for p in problems), problems


def test_intent_write_removed_is_caught(
    product: Product, amd_sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = type(product.ctx.appointments).save

    def save_without_intent(self: Any, record: Any, expected_version: int | None) -> int:
        if record.create_intent_at is not None and record.advanced_md_visit_id is None:
            record = record.model_copy(update={"create_intent_at": None})
        return real_save(self, record, expected_version)

    monkeypatch.setattr(type(product.ctx.appointments), "save", save_without_intent)
    problems = _crash_after_booking(product, amd_sim)
    assert any("owned by no record" in p for p in problems), problems
