"""``python -m bench.run [--scale tiny|small|full] [--only NAME] [--engines sqlite,postgresql]``

Runs each benchmark, printing every figure next to its baseline measured in the same run, and
writes them to ``WORKDIR/results.json`` (docs/performance.md quotes them with this command).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench import dashboards, generate, http, salary, verify, writes
from bench import round as round_bench
from bench.common import Figure, postgres_base_url, say

BENCHMARKS = {module.NAME: module for module in (http, round_bench, dashboards, verify, salary, writes)}


def run(scale_name: str, only: list[str], engines: list[str], workdir: Path) -> list[Figure]:
    """Every selected benchmark on every engine; figures in the order they were measured."""
    scale = generate.SCALES[scale_name]
    workdir.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []
    for name in only:
        began = time.perf_counter()
        say(f"== {name} ({scale_name}, {', '.join(engines)})")
        measured = BENCHMARKS[name].run(scale, workdir, engines)
        for figure in measured:
            print(figure.line(), flush=True)
        figures += measured
        say(f"== {name} done in {time.perf_counter() - began:.1f} s")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks, each next to a baseline from the same run.")
    parser.add_argument("--scale", choices=sorted(generate.SCALES), default="small")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only this benchmark (repeatable)")
    parser.add_argument(
        "--engines", default=None, help="comma-separated: sqlite,postgresql (default: both when PostgreSQL answers)"
    )
    parser.add_argument("--workdir", default="instance/bench")
    parser.add_argument("--keep", action="store_true", help="keep the generated SQLite files")
    args = parser.parse_args(argv)
    engines = args.engines.split(",") if args.engines else ["sqlite"] + (["postgresql"] if postgres_base_url() else [])
    workdir = Path(args.workdir).resolve()  # the app wants an absolute instance path
    say(f"scale {args.scale}: {generate.SCALES[args.scale]}")
    figures = run(args.scale, args.only or list(BENCHMARKS), engines, workdir)
    (workdir / "results.json").write_text(
        json.dumps(
            {
                "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
                "scale": args.scale,
                "engines": engines,
                "machine": f"{platform.machine()}, {platform.python_version()}",
                "figures": [asdict(f) for f in figures],
            },
            indent=2,
        )
    )
    if not args.keep:
        for db_file in workdir.glob("*.db*"):
            db_file.unlink()
        shutil.rmtree(workdir / "instance", ignore_errors=True)
    missed = [f.name for f in figures if f.met is False]
    say(f"{len(figures)} figures; {len(missed)} targets missed" + (f": {missed}" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
