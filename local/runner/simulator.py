"""The AdvancedMD simulator (`local/amdsim`) as a child process of the runner.

It is started with `python -m local.amdsim --host H --port N`, whose first line of output is
`listening on http://H:P`; its later output is forwarded to the runner's log with a prefix so the
pipe never fills. If `local.amdsim` is not importable the stack runs without it.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import IO

from local.runner.template import REPO_ROOT

LOG = logging.getLogger("local.runner.amdsim")
PARTNER_LOGIN_PATH = "/practicemanager/xmlrpc/processrequest.aspx"
_LISTENING = re.compile(r"listening on (http://\S+)")
_START_TIMEOUT_SECONDS = 60.0
_STOP_GRACE_SECONDS = 5.0


class SimulatorError(RuntimeError):
    """The simulator did not start."""


def simulator_available() -> bool:
    try:
        return importlib.util.find_spec("local.amdsim.__main__") is not None
    except ModuleNotFoundError:
        return False


@dataclass
class SimulatorProcess:
    host: str = "127.0.0.1"
    port: int = 4000
    extra_args: tuple[str, ...] = ()
    url: str = ""
    _process: subprocess.Popen[str] | None = field(default=None, init=False, repr=False)

    @property
    def partner_login_url(self) -> str:
        return self.url + PARTNER_LOGIN_PATH

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> SimulatorProcess:
        command = [sys.executable, "-m", "local.amdsim", "--host", self.host]
        command += ["--port", str(self.port), *self.extra_args]
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        first_line = self._first_line(self._process)
        found = _LISTENING.search(first_line)
        if not found:
            self.stop()
            raise SimulatorError(f"simulator did not start: {first_line.strip()!r}")
        self.url = found.group(1).rstrip("/")
        assert self._process.stdout is not None
        threading.Thread(
            target=_forward, args=(self._process.stdout,), name="amdsim-output", daemon=True
        ).start()
        return self

    @staticmethod
    def _first_line(process: subprocess.Popen[str]) -> str:
        assert process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))  # type: ignore[union-attr]
        reader.daemon = True
        reader.start()
        reader.join(_START_TIMEOUT_SECONDS)
        return lines[0] if lines else ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _forward(stream: IO[str]) -> None:
    for line in stream:
        LOG.info("%s", line.rstrip())
