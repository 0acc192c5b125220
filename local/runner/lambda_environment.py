"""The complete environment of a function's process: what Lambda would give it in AWS.

That is the template's Globals variables merged with the function's own (already resolved to the
moto resources by `read_functions`), Lambda's reserved runtime variables, and the few local
settings that are configuration rather than code: the AWS endpoint with dummy credentials, and
X-Ray disabled (there is no daemon). Nothing else from the runner's environment leaks in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from local.runner.function_specs import FunctionSpec

# Passed through from the runner's environment when present (Lambda sets its own PATH, LANG).
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")

LOCAL_SETTINGS = {
    # No X-Ray daemon locally; the Tracer becomes a no-op, as in `sam local`.
    "POWERTOOLS_TRACE_DISABLED": "1",
}


def lambda_environment(
    spec: FunctionSpec,
    aws_environment: Mapping[str, str],
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment `spec`'s handler sees: passthrough < runtime < template < local."""
    environment = {key: os.environ[key] for key in _PASSTHROUGH if key in os.environ}
    environment.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "TZ": "UTC",
            "PYTHONUNBUFFERED": "1",
        }
    )
    environment.update(spec.environment)
    environment.update(aws_environment)
    environment.update(LOCAL_SETTINGS)
    environment.update(extra or {})
    return environment
