"""A busy machine may stretch the functions' deadlines; the template's values are the default."""

from local.runner.stack import LocalStack
from tests.integration.runner.conftest import quiet_config


def _timeouts(stack: LocalStack) -> dict[str, int]:
    return {name: pool.config.spec.timeout_seconds for name, pool in stack.pools.items()}


def test_function_timeouts_are_the_templates_unless_scaled() -> None:
    plain = LocalStack(quiet_config(prewarm=False)).start()
    try:
        as_deployed = _timeouts(plain)
    finally:
        plain.stop()
    assert as_deployed["ApiFunction"] == 30  # API Gateway's own ceiling, as deployed
    stretched = LocalStack(quiet_config(prewarm=False, function_timeout_scale=2.5)).start()
    try:
        assert _timeouts(stretched) == {n: -(-t * 5 // 2) for n, t in as_deployed.items()}
        assert stretched.functions["ApiFunction"].timeout_seconds == 75
    finally:
        stretched.stop()
