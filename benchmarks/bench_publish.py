"""How fast and how lean ``publish`` is on a large year: N 該当 records of 令和7年度.

    python benchmarks/bench_publish.py [--records 30000] [--baseline PATH] [--profile]

Builds DIR/ledger.json the way the aggregation records it (``record_ledger``), its records spread
over the configuration's 機関 and 部局 with 概要 and 措置の概要 of typical length (90 and 60
characters), then in one run measures ``publish`` in a child process per tree (this worktree and,
with ``--baseline``, another source tree such as an earlier commit extracted with ``git archive``):
the wall time of ``ledger-tools publish`` as a command, of a process calling ``publish()`` and of
``publish()`` itself, the peak RSS of that process, the number and largest size of the pages, and
whether both trees wrote the same bytes. Each tree's bytecode is compiled once before the timed
runs and kept in a temporary folder, as an installed package keeps it. Reports ratios (each figure
the best of ``--runs``); no assertion.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 5, 31)

CHILD = r"""
import json, sys, time, resource
from pathlib import Path
started = time.perf_counter()
from ledger_tools.config import load_config
from ledger_tools.dates import FiscalYear
from ledger_tools.publish.publication import publish
config = load_config()
begun = time.perf_counter()
if len(sys.argv) > 2:
    import cProfile, pstats
    profiler = cProfile.Profile()
    profiler.enable()
publish(Path(sys.argv[1]), config, FiscalYear(2025))
took = time.perf_counter() - begun
if len(sys.argv) > 2:
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
# ru_maxrss survives fork and exec: it would report this benchmark's own size (the 30,000 entries
# it built) when that is larger. VmHWM belongs to this program alone.
try:
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"publish_s": took, "peak_rss_mib": rss / 1024}))
"""


def build_dir(records: int, out: Path) -> None:
    from ledger_tools.check.findings import Status
    from ledger_tools.config import load_config
    from ledger_tools.form.samples import complete_values
    from ledger_tools.ledger.aggregation import record_ledger
    from ledger_tools.ledger.entries import Ledger, LedgerEntry

    config = load_config()
    pairs = list(config.departments_in_force_during(dt.date(2025, 4, 1), dt.date(2026, 3, 31)))
    entries = []
    for i in range(records):
        organ, department = pairs[i % len(pairs)]
        received = dt.date(2025, 4, 1) + dt.timedelta(days=i % 365)
        values = complete_values(
            record_id=f"R7-{i:06d}",
            organ=organ,
            department=department,
            received_date=received,
            public_summary=f"第{i}号の案件について、特定の事業者を有利に扱うよう繰り返し求められた。" * 3,
            public_measures=f"担当課で情報を共有し、第{i}号の案件の対応方針を確認した。" * 2,
        )
        entries.append(
            LedgerEntry(
                path=f"inbox/{i:06d}.xlsx",
                sha256="",
                status=Status.OK,
                record_id=values["record_id"],
                stage=None,
                values=values,
            )
        )
    record_ledger(out, Ledger(AS_OF, entries))


def tree_env(tree: Path, pycache: Path) -> dict[str, str]:
    """The child's environment: the tree's package, and bytecode kept (in ``pycache``) as an installed
    package has it (this machine's PYTHONDONTWRITEBYTECODE=1 would compile every module in every run)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_up(tree: Path, pycache: Path) -> None:
    """Compile the tree's modules once, untimed."""
    code = "import ledger_tools.cli, ledger_tools.publish.publication"
    subprocess.run([sys.executable, "-c", code], env=tree_env(tree, pycache), cwd=tree, check=True)


def run_tree(tree: Path, directory: Path, profile: bool, pycache: Path) -> dict:
    env = tree_env(tree, pycache)
    started = time.perf_counter()
    args = [sys.executable, "-c", CHILD, str(directory)] + (["profile"] if profile else [])
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=tree)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"publish failed in {tree}:\n{done.stderr}")
    if profile:
        print(done.stderr)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    started = time.perf_counter()
    cli = [sys.executable, "-m", "ledger_tools", "publish", str(directory), "--fiscal-year", "2025"]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, cwd=tree)
    if done.returncode != 0:
        raise SystemExit(f"ledger-tools publish failed in {tree}:\n{done.stdout}{done.stderr}")
    result["cli_s"] = time.perf_counter() - started
    year = directory / "publication" / "2025"
    pages = sorted(year.glob("*.html"))
    result["pages"] = len(pages)
    result["largest_page_bytes"] = max(p.stat().st_size for p in pages)
    result["outputs"] = outputs_digest(directory)
    return result


def outputs_digest(directory: Path) -> str:
    """One digest of every file publishing wrote (DIR/publication/ and the reconciliation report),
    names and bytes: equal digests mean byte-identical outputs."""
    digest = hashlib.sha256()
    files = [*sorted((directory / "publication").rglob("*")), *sorted(directory.glob("公表照合表_*.csv"))]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=30000)
    parser.add_argument("--baseline", type=Path, help="another source tree to run the same way")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "集計"
        started = time.perf_counter()
        build_dir(args.records, directory)
        size = (directory / "ledger.json").stat().st_size
        if hasattr(os, "sync"):  # publishing flushes with os.sync: not the ledger just written
            os.sync()
        print(
            f"{platform.python_version()}, {os.cpu_count()} cores; {args.records:,} 該当 records, "
            f"ledger.json {size / 1e6:.1f} MB (built in {time.perf_counter() - started:.1f} s)"
        )
        trees = [("candidate", ROOT)] + ([("baseline", args.baseline)] if args.baseline else [])
        results: dict[str, list[dict]] = {name: [] for name, _ in trees}
        caches = {name: Path(tmp) / f"pycache-{name}" for name, _ in trees}
        for name, tree in trees:
            warm_up(tree, caches[name])
        for _ in range(args.runs):
            for name, tree in trees:
                results[name].append(run_tree(tree, directory, args.profile, caches[name]))
        best = {name: min(runs, key=lambda r: r["process_s"]) for name, runs in results.items()}
        for name, runs in results.items():  # each figure its own best (the runs alternate trees)
            best[name] = {**best[name], "cli_s": min(r["cli_s"] for r in runs)}
        for name, r in best.items():
            print(
                f"{name:9}: CLI {r['cli_s']:.2f} s, process {r['process_s']:.2f} s, publish() {r['publish_s']:.2f} s, "
                f"peak RSS {r['peak_rss_mib']:.0f} MiB, {r['pages']} pages, largest {r['largest_page_bytes']:,} bytes"
            )
        if args.baseline:
            c, b = best["candidate"], best["baseline"]
            print(
                f"ratio baseline/candidate: CLI {b['cli_s'] / c['cli_s']:.1f}x, process {b['process_s'] / c['process_s']:.1f}x, "
                f"publish() {b['publish_s'] / c['publish_s']:.1f}x, RSS {b['peak_rss_mib'] / c['peak_rss_mib']:.1f}x"
            )
            digests = {r["outputs"] for runs in results.values() for r in runs}
            print(
                f"outputs byte-identical in every run of both trees: {'yes' if len(digests) == 1 else 'NO'}"
            )


if __name__ == "__main__":
    main()
