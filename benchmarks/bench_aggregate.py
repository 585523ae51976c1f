"""How fast is `aggregate`, compared with a naive reader and with a zip+XML parse floor?

Usage (from the project root, with the project's venv):

    python benchmarks/bench_aggregate.py [--files N] [--workers W] [--naive-sample S] [--json FILE]

Generates N filled 対応記録簿 workbooks (default 2000; a few distinct workbooks built with
``ledger_tools.form.samples``, each file a copy with its own record_id, so every file has its own
hash — see ``bench_validate.generate_inputs``) and measures, in one run on the same files:

  1. ``aggregate`` into a fresh DIR (cold: nothing cached), in a child process: wall time of
     the call, and the peak resident memory of the process and of its worker processes;
  2. ``aggregate`` again on the unchanged inbox (the re-run: nothing parsed, nothing rendered),
     after 1 % of the files changed (``--changed``), and after one file changed;
  3. the naive reference: openpyxl's default ``load_workbook`` per file, every field read through
     its defined name — on a sample of S files (default 200), extrapolated to N (it is slow);
  4. the floor: ``zipfile`` + ``xml.etree`` parse of every XML part of every file, one process.

The inputs are generated once into a cache folder (``--cache``, default
``benchmarks/.cache/aggregate-N``, ignored by git) and hard-linked into a temporary inbox for
each benchmark (a changed file is written beside and renamed over its link, so the cache stays
as generated).

Ratios: naive / aggregate (target ≥ 10× for 2,000 files on 2 cores), aggregate / floor (target
≤ 2×), first run / re-run (target ≥ 20×), first run / 1 % changed (target ≥ 10×), peak memory of
the main process (target ≤ 400 MiB at 30,000 files). Informative only: nothing here fails on a number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent
for path in (HERE, PROJECT_ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_validate import AS_OF, _with_record_id, generate_inputs, read_openpyxl_default  # noqa: E402

# Runs one aggregation in a fresh interpreter and reports its time and peak memory as JSON.
CHILD = """
import datetime as dt, json, sys, time
from pathlib import Path
try:
    import resource
except ImportError:  # Windows: no peak memory figure
    resource = None
from ledger_tools.ledger.aggregation import aggregate
from ledger_tools.config import load_config
inbox, out, as_of, workers = Path(sys.argv[1]), Path(sys.argv[2]), dt.date.fromisoformat(sys.argv[3]), int(sys.argv[4])
config = load_config()
t0 = time.perf_counter()
result = aggregate(inbox, out, config, as_of, progress=False, workers=workers)
seconds = time.perf_counter() - t0
def peak_kib():  # this process's own peak resident set (VmHWM; ru_maxrss where there is no /proc)
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if resource else 0
peak = peak_kib()  # before the ledger is read back below (the run itself, not the caller's check)
print(json.dumps({
    "seconds": seconds, "parsed": result.parsed, "entries": result.entries, "summary": result.summary,
    "maxrss_kib": peak,
    "children_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if resource else 0,
}))
"""


def run_aggregate(inbox: Path, out: Path, workers: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(inbox), str(out), AS_OF.isoformat(), str(workers)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"aggregate failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cached_inputs(cache: Path, n: int) -> dict[str, object]:
    """The N generated workbooks in ``cache`` (generated there once)."""
    done = cache / "inputs.json"
    if done.is_file():
        return json.loads(done.read_text(encoding="utf-8"))
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    gen = generate_inputs(cache, n)
    done.write_text(json.dumps(gen), encoding="utf-8")
    return gen


def link_inbox(cache: Path, inbox: Path) -> None:
    inbox.mkdir()
    for path in cache.glob("*.xlsx"):
        try:
            os.link(path, inbox / path.name)
        except OSError:  # no hard links here: a copy does
            shutil.copy2(path, inbox / path.name)


def change(path: Path, new_id: str) -> None:
    """Give one file a new record id, without touching the cached file it may be linked to."""
    data = _with_record_id(path.read_bytes(), "B" + path.stem.rjust(6, "0"), new_id)
    side = path.with_suffix(".new")
    side.write_bytes(data)
    os.replace(side, path)


def parse_floor(path: Path) -> int:
    """The floor: open the zip, decompress and parse every XML part (a tree each)."""
    parsed = 0
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            if name.endswith((".xml", ".rels")):
                ET.fromstring(data)
                parsed += 1
    return parsed


def timed(func, files: list[Path]) -> float:
    func(files[0])  # warm-up
    t0 = time.perf_counter()
    for path in files:
        func(path)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="number of workbooks (default 2000)")
    parser.add_argument(
        "--workers", type=int, default=0, help="aggregate's worker processes (default: all usable cores)"
    )
    parser.add_argument(
        "--naive-sample", type=int, default=200, help="files read by the naive reference (default 200)"
    )
    parser.add_argument(
        "--changed", type=float, default=1.0, help="percentage of files changed for the third run (default 1)"
    )
    parser.add_argument(
        "--cache", type=Path, help="folder of the generated inputs (default benchmarks/.cache/aggregate-N)"
    )
    parser.add_argument(
        "--floor-files", type=int, default=0, help="files the floor parses, scaled to N (default: all)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")
    from ledger_tools.ledger.intake import default_workers

    n, workers = args.files, args.workers or default_workers()
    print(
        f"bench_aggregate: {n} files, {workers} worker(s); {platform.platform()} | {os.cpu_count()} CPUs | Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="bench_aggregate_") as tmp:
        inbox, out = Path(tmp) / "inbox", Path(tmp) / "out"
        cache = args.cache or HERE / ".cache" / f"aggregate-{n}"
        gen = cached_inputs(cache, n)
        link_inbox(cache, inbox)
        files = sorted(inbox.iterdir())
        print(
            f"inputs: {gen['distinct_workbooks']} distinct workbooks, ≈{gen['bytes_per_file'] / 1024:.1f} KiB each, generated in {gen['total_s']:.1f} s (cache {cache})"
        )

        first = run_aggregate(inbox, out, workers)
        print(f"  measured aggregate (first run): {first['seconds']:.2f} s", file=sys.stderr)
        again = run_aggregate(inbox, out, workers)
        print(f"  measured aggregate (re-run): {again['seconds']:.3f} s", file=sys.stderr)
        n_changed = max(1, round(n * args.changed / 100))
        for path in files[1 : 1 + n_changed]:
            change(path, "D" + path.stem.rjust(6, "0"))
        some_changed = run_aggregate(inbox, out, workers)
        print(
            f"  measured aggregate ({n_changed} files changed): {some_changed['seconds']:.3f} s",
            file=sys.stderr,
        )
        change(files[0], "C000000")
        one_changed = run_aggregate(inbox, out, workers)
        print(f"  measured aggregate (one file changed): {one_changed['seconds']:.3f} s", file=sys.stderr)
        sample = files[: min(args.naive_sample, n)]
        naive_sample_s = timed(read_openpyxl_default, sample)
        naive_s = naive_sample_s / len(sample) * n
        print(f"  measured naive reference on {len(sample)} files: {naive_sample_s:.2f} s", file=sys.stderr)
        floor_files = files[: args.floor_files or n]
        floor_s = timed(parse_floor, floor_files) / len(floor_files) * n
        print(f"  measured floor ({len(floor_files)} files, scaled to {n}): {floor_s:.2f} s", file=sys.stderr)
        archived = sum(1 for p in (out / "archive").rglob("*") if p.is_file())

    per_file = lambda seconds: seconds / n * 1000  # noqa: E731
    rows = [
        ("aggregate, first run (cold, fresh DIR)", first["seconds"], ""),
        ("aggregate, re-run on the unchanged inbox", again["seconds"], f"{again['parsed']} files parsed"),
        (
            f"aggregate, after {args.changed:g} % of the files changed",
            some_changed["seconds"],
            f"{some_changed['parsed']} files parsed",
        ),
        ("aggregate, after one file changed", one_changed["seconds"], f"{one_changed['parsed']} file parsed"),
        (f"naive: openpyxl load_workbook per file (extrapolated from {len(sample)})", naive_s, "one process"),
        ("floor: zipfile + xml.etree parse of every part", floor_s, "one process"),
    ]
    print()
    print(f"{'method':<66} {'total s':>9} {'ms/file':>9}  note")
    print("-" * 100)
    for label, seconds, note in rows:
        print(f"{label:<66} {seconds:>9.3f} {per_file(seconds):>9.3f}  {note}")
    speedup = naive_s / first["seconds"]
    vs_floor = first["seconds"] / floor_s
    rerun_ratio = first["seconds"] / again["seconds"]
    changed_ratio = first["seconds"] / some_changed["seconds"]
    peak_main = first["maxrss_kib"] / 1024
    peak_worker = first["children_maxrss_kib"] / 1024
    print()
    print(f"ledger: {first['entries']} entries {first['summary']}; archive: {archived} files")
    peak_changed = max(some_changed["maxrss_kib"], one_changed["maxrss_kib"]) / 1024
    one_ratio = first["seconds"] / one_changed["seconds"]
    print(
        f"peak memory (first run): main process {peak_main:.0f} MiB, largest worker {peak_worker:.0f} MiB; re-run main {again['maxrss_kib'] / 1024:.0f} MiB; {args.changed:g} % changed: main {some_changed['maxrss_kib'] / 1024:.0f} MiB; one file changed: main {one_changed['maxrss_kib'] / 1024:.0f} MiB"
    )
    print(f"first run / one file changed: {one_ratio:.1f}×")
    targets = [
        ("aggregate ≥ 10× faster than the naive reference", f"{speedup:.1f}×", speedup >= 10),
        ("aggregate within 2× of the zip+XML floor", f"{vs_floor:.2f}× the floor", vs_floor <= 2),
        ("re-run ≥ 20× faster than the first run", f"{rerun_ratio:.1f}×", rerun_ratio >= 20),
        (
            f"{args.changed:g} % changed ≥ 10× faster than the first run",
            f"{changed_ratio:.1f}×",
            changed_ratio >= 10,
        ),
        ("main process ≤ 400 MiB (first run)", f"{peak_main:.0f} MiB", peak_main <= 400),
        ("main process ≤ 400 MiB (changed runs)", f"{peak_changed:.0f} MiB", peak_changed <= 400),
    ]
    print("\ntargets (informative only):")
    for label, value, ok in targets:
        print(f"  {'PASS' if ok else 'MISS'}  {label:<52} {value}")
    if args.json:
        result = {
            "files": n,
            "workers": workers,
            "inputs": gen,
            "first": first,
            "rerun": again,
            "some_changed": some_changed,
            "changed_percent": args.changed,
            "changed_ratio": changed_ratio,
            "one_changed": one_changed,
            "one_changed_ratio": one_ratio,
            "naive_s": naive_s,
            "naive_sample": len(sample),
            "floor_s": floor_s,
            "speedup_vs_naive": speedup,
            "ratio_to_floor": vs_floor,
            "rerun_ratio": rerun_ratio,
        }
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
