"""Run a probe module in a fresh Python process and read the JSON line it prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent


def run_probe(name: str, *args: object, env: dict[str, str] | None = None) -> Any:
    """`python -m benchmarks.probes.NAME ARGS...` -> its last stdout line parsed as JSON."""
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), environment.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-m", f"benchmarks.probes.{name}", *map(str, args)], capture_output=True,
                            text=True, env=environment)
    if result.returncode != 0:
        raise RuntimeError(f"probe {name} failed: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
