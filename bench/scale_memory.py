"""Peak memory per function, in two parts measured separately:

* `import_rss_mb`: peak RSS (VmHWM) of a fresh interpreter that imports the handler module with the
  function's Lambda environment (what a cold instance holds before its first event);
* `invocation_peak_mb`: tracemalloc's peak of Python allocations during one representative
  invocation in this process (warm), over what was allocated before it.

Their sum estimates the function's peak; Lambda reports "Max Memory Used" for the whole
process, which also counts the runtime's own ~40 MB (not in either number).
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.stack_bench import FUNCTIONS
from local.runner.lambda_environment import lambda_environment
from local.runner.stack import LocalStack

ROOT = Path(__file__).resolve().parents[1]
# VmHWM (peak resident set, KiB) of this process image: ru_maxrss would carry the parent's
# peak over fork + exec.
_RSS = (
    "import re, app; "
    "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
)


def import_rss_mb(stack: LocalStack) -> dict[str, float]:
    assert stack.moto is not None
    out: dict[str, float] = {}
    for name, logical_id in FUNCTIONS.items():
        spec = stack.functions[logical_id]
        env = lambda_environment(spec, stack.moto.environment())
        env["PYTHONPATH"] = str(ROOT / "layers" / "common")
        done = subprocess.run(
            [sys.executable, "-c", _RSS],
            cwd=spec.code_dir,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        out[name] = round(int(done.stdout.strip().splitlines()[-1]) / 1024, 1)
    return out


def invocation_peak_mb(call: Callable[[], Any]) -> float:
    """Peak traced allocation during `call`, in MB (tracing slows the call: not timed)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round((peak - base) / 1e6, 2)
