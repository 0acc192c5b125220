"""The third-party packages a deployed function can import, and no others: the CommonLayer's
requirements (layers/common/requirements.txt, with their dependencies) and what the Lambda
Python runtime itself provides (boto3 and its dependencies), linked from the venv into one
directory. Import-time probes run with `python -S` and this directory on PYTHONPATH, so a
development-only package in the venv cannot change what an import loads (httpx, for one,
imports its command line, click, rich and pygments, whenever they are installed).
"""

from __future__ import annotations

import importlib.metadata as metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement

from tests.lambda_support import REPO

LAYER_REQUIREMENTS = REPO / "layers" / "common" / "requirements.txt"
# In the python3.11 runtime's own path (not in the layer): boto3, botocore and theirs.
RUNTIME_PROVIDED = ("boto3",)


def _closure(roots: list[Requirement]) -> set[str]:
    """The distributions the requirements install, by canonical name (extras followed)."""
    names: set[str] = set()
    pending = [(root.name, frozenset(root.extras)) for root in roots]
    while pending:
        name, extras = pending.pop()
        key = name.lower().replace("_", "-")
        if key in names:
            continue
        names.add(key)
        for text in metadata.requires(name) or []:
            need = Requirement(text)
            wanted = need.marker is None or any(
                need.marker.evaluate({"extra": extra}) for extra in extras | {""}
            )
            if wanted:
                pending.append((need.name, frozenset(need.extras)))
    return names


def deployed_distributions() -> set[str]:
    lines = LAYER_REQUIREMENTS.read_text().splitlines()
    roots = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return _closure(roots + [Requirement(name) for name in RUNTIME_PROVIDED])


def link_runtime_site(target: Path) -> Path:
    """Link each deployed distribution's top-level files (and their bytecode) into `target`."""
    pycache = target / "__pycache__"
    pycache.mkdir(parents=True, exist_ok=True)
    for name in sorted(deployed_distributions()):
        dist = metadata.distribution(name)
        site = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in tops - {"__pycache__"}:
            link = target / top
            if not link.exists():
                link.symlink_to(site / top)
            if top.endswith(".py"):  # a single-file module: its .pyc sits in site/__pycache__
                compiled = site / "__pycache__" / f"{top[:-3]}.{sys.implementation.cache_tag}.pyc"
                if compiled.is_file() and not (pycache / compiled.name).exists():
                    (pycache / compiled.name).symlink_to(compiled)
    return target
