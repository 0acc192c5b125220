"""Handlers under test run in this process, with the environment Lambda would give them, against
moto (resources created from template.yaml by the local runner's code) and the AMD simulator."""

from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from local.amdsim.handle import SimHandle
from local.runner.lambda_environment import lambda_environment
from local.runner.stack import LocalStack
from tests.lambda_support import load_handler
from tests.stacks import resources_only

LOGICAL_IDS = {
    "api": "ApiFunction",
    "sync_worker": "SyncWorkerFunction",
    "pull": "PullFunction",
    "weekly_report": "WeeklyReportFunction",
    "webhook_delivery": "WebhookDeliveryFunction",
}


@dataclass
class AwsHarness:
    stack: LocalStack
    sim: SimHandle
    monkeypatch: pytest.MonkeyPatch

    def environment(self, name: str) -> dict[str, str]:
        assert self.stack.moto is not None
        spec = self.stack.functions[LOGICAL_IDS[name]]
        return lambda_environment(spec, self.stack.moto.environment())

    def load(self, name: str) -> ModuleType:
        """Cold-start a handler: its environment set, its module imported afresh."""
        for key, value in self.environment(name).items():
            self.monkeypatch.setenv(key, value)
        return load_handler(name)

    def client(self, service: str) -> Any:
        assert self.stack.moto is not None
        return self.stack.moto.client(service)

    def table(self, logical_id: str) -> Any:
        assert self.stack.resources is not None
        name = self.stack.resources.tables[logical_id]
        return self.client("dynamodb"), name

    def queue_url(self, logical_id: str) -> str:
        assert self.stack.resources is not None
        return self.stack.resources.queues[logical_id]


@pytest.fixture
def aws(amd_sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsHarness]:
    # The handlers run on the real clock, so the simulator follows real time too (its demo
    # data is seeded around today).
    amd_sim.admin.reset(seed=1, patients=60, appointments=150)
    config = resources_only(amd_sim)
    stack = LocalStack(config).start()
    try:
        yield AwsHarness(stack, amd_sim, monkeypatch)
    finally:
        stack.stop()
