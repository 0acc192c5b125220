"""Where the local stack's logs go (`make run`: `.local/logs/`), so the terminal keeps only the
start-up progress and the banner.

* each function's processes (all of its hosts) append to `<LogicalId>.log`: its Powertools
  JSON lines, EMF metrics and anything it prints, as CloudWatch Logs keeps one log group per
  function;
* the runner's own lines (HTTP requests, queue pollers, schedules, the simulator's output,
  moto's and the libraries' warnings) go to `runner.log`.
"""

from __future__ import annotations

import logging
from pathlib import Path

RUNNER_LOG = "runner.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def function_log(log_dir: Path, logical_id: str) -> Path:
    return log_dir / f"{logical_id}.log"


def prepare(log_dir: Path) -> Path:
    """Create the directory and start every file empty (one run, one set of logs)."""
    log_dir = log_dir.resolve()
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    return log_dir


def send_runner_logs_to(log_dir: Path) -> Path:
    """Route the runner process's logging and Python warnings to `runner.log` only."""
    path = log_dir / RUNNER_LOG
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # deprecation notices of libraries: a file's business
    return path
