"""Start-up time of ``lesiontrack --help``, ``calls --help`` and ``calls`` on the fixtures.

Each command is timed as a fresh process against a reference process started in the same
session, repetitions interleaved (reference, command, reference, command...); the ratio of the
medians is reported. The reference is ``python -c "import pandas"`` (what any pandas tool pays).
With ``--tree DIR`` (repeatable) the same commands run against other checkouts of lesiontrack
(``PYTHONPATH=DIR``), in the same session, so a change can be measured before and after::

    git worktree add /tmp/before <old-commit>
    python benchmarks/startup.py --tree /tmp/before --tree . --repeats 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = [sys.executable, "-c", "import pandas"]


def _commands(tree: Path) -> dict[str, list[str]]:
    sheet = str(tree / "fixtures" / "samplesheet.tsv")
    cli = [sys.executable, "-m", "lesiontrack.cli"]
    return {
        "import lesiontrack": [sys.executable, "-c", "import lesiontrack"],
        "lesiontrack --help": [*cli, "--help"],
        "lesiontrack calls --help": [*cli, "calls", "--help"],
        "lesiontrack calls (fixtures, 8 patients)": [*cli, "--quiet", "calls", sheet],
    }


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path, help="a lesiontrack checkout (default: this one)")
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    trees = [t.resolve() for t in (args.tree or [ROOT])]
    print("| tree | command | median s | reference s | ratio |")
    print("|---|---|---:|---:|---:|")
    for name in _commands(ROOT):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            argv = _commands(tree)[name]
            _time(argv, env)  # warm the file cache
            ref, job = [], []
            for _ in range(args.repeats):
                ref.append(_time(REFERENCE, env))
                job.append(_time(argv, env))
            r, j = statistics.median(ref), statistics.median(job)
            print(f"| {tree.name} | `{name}` | {j:.3f} | {r:.3f} | {j / r:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
