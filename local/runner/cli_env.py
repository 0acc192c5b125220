"""The operator CLI's way into the running local stack: `export` lines (written by `make run` to
`.local/cli.env`) that make `amdsync` one more caller of this stack, not a second identity.

They are the worker function's own settings (tables, AMD secret name, partner-login URL,
practice zone — what `amdsync.config.AmdSettings` reads), moto's endpoint with its dummy
credentials, and the stack's extra function variables (e.g. `AMD_RATE_LIMITS_JSON`). With them
the CLI shares the service's token cache and rate buckets, so next to `make run` it never logs
in again and never spends budget the functions do not see. No real secret is in the file: the
AMD credentials stay in (moto's) Secrets Manager.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import tempfile
from pathlib import Path

from local.runner.stack import LocalStack

# Whose settings the CLI takes: every function gets the same Globals, the worker is the one
# that talks to AMD most.
SETTINGS_FUNCTION = "SyncWorkerFunction"
_NOT_FOR_THE_CLI = ("POWERTOOLS_",)


def cli_environment(stack: LocalStack) -> dict[str, str]:
    """The variables that point `amdsync` at `stack` (a started one)."""
    assert stack.moto is not None, "start the stack first"
    spec = stack.functions[SETTINGS_FUNCTION]
    environment = {
        key: value
        for key, value in spec.environment.items()
        if not key.startswith(_NOT_FOR_THE_CLI)
    }
    environment.update(stack.moto.environment())
    environment.update(stack.config.function_environment)
    return environment


def cli_env_text(environment: dict[str, str]) -> str:
    lines = [
        "# Points the amdsync CLI at the running local stack (make run): it then shares the",
        "# service's AdvancedMD token and rate budget. Use:  . .local/cli.env && .venv/bin/amdsync",
        *(f"export {key}={shlex.quote(value)}" for key, value in sorted(environment.items())),
    ]
    return "\n".join(lines) + "\n"


def write_cli_env(stack: LocalStack, path: Path) -> Path:
    """Write the export lines to `path` (0600, atomically); returns the absolute path."""
    target = path.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".cli-env-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(cli_env_text(cli_environment(stack)))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return target


def remove_cli_env(path: Path) -> None:
    """The stack is gone: its endpoints with it (a stale file would point at nothing)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
