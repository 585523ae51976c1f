"""How fast is `ledger-tools validate`, compared with the obvious ways of reading the same files?

Usage (from the project root, with the project's venv):

    python benchmarks/bench_validate.py [--files N] [--repeat R] [--json FILE]

The script generates N filled 対応記録簿 workbooks in a temporary folder and then, IN ONE RUN
and on the same files, measures:

  1. openpyxl default ``load_workbook(path)``, every field read through its defined name
     (the naive reference every ratio is compared with);
  2. openpyxl ``load_workbook(path, read_only=True, data_only=True)``: defined names, then
     the sheet's rows read once (``iter_rows(values_only=True)``) and the fields picked out;
  3. python-calamine alone: ``CalamineWorkbook.from_path`` + ``get_sheet_by_name(...).to_python()``;
  4. the zip floor: open the zip and decompress every part, nothing parsed;
  5. ``validation.validate_file`` per file, in-process (our reader + every rule);
  6. ``validation.validate_paths`` over the folder, in-process (adds the walk and the
     cross-file checks);
  7. the whole CLI process ``python -m ledger_tools validate DIR --format json`` (wall time,
     start-up included), plus the start-up alone (one file; ``import ledger_tools.cli``;
     a bare interpreter) and which heavy modules the validate path imports.

Per-file timings use ``time.perf_counter`` and keep the best of ``--repeat`` passes; the
openpyxl default reader is slow, so with more than ``--openpyxl-full-limit`` files it is run
once only (the output says so). The "targets" printed at the end are informative only: this
script never fails because of a number.

Inputs: a few distinct workbooks are built with ``ledger_tools.form.samples`` (≈0.2 s each) from
the bundled sample records; every file is a copy of one of them whose ``record_id`` cell is
rewritten in the sheet XML, so each file has its own record id. (Identical copies would share
a record id and make ``validate_paths`` compare every pair of files: a quadratic
``duplicate_file`` storm that real submissions never produce.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(PROJECT_ROOT))

from ledger_tools.check.rules import RuleContext  # noqa: E402
from ledger_tools.check.validation import validate_file, validate_paths  # noqa: E402
from ledger_tools.config import load_config  # noqa: E402
from ledger_tools.form.fields import FIELD_IDS, TEMPLATE_VERSION_NAME  # noqa: E402
from ledger_tools.form.samples import filled_workbook_bytes, sample_records  # noqa: E402

SHEET = "対応記録簿"
AS_OF = dt.date(2026, 4, 1)  # fixed, so that deadline findings do not depend on the day of the run
NAMES = (TEMPLATE_VERSION_NAME, *FIELD_IDS)
HEAVY_PACKAGES = ("pandas", "openpyxl", "numpy", "jinja2")


# ---------------------------------------------------------------------------- inputs


def _with_record_id(data: bytes, placeholder: str, record_id: str) -> bytes:
    """The workbook ``data`` with the inline string ``placeholder`` replaced by ``record_id``."""
    old, new = f"<t>{placeholder}</t>".encode(), f"<t>{record_id}</t>".encode()
    out = io.BytesIO()
    replaced = 0
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = src.read(info)
            if old in part:
                replaced += part.count(old)
                part = part.replace(old, new)
            dst.writestr(info, part)  # keeps the entry's name, date and compression
    if replaced != 1:
        raise RuntimeError(f"record_id placeholder found {replaced} times, expected once")
    return out.getvalue()


def generate_inputs(folder: Path, n_files: int) -> dict[str, object]:
    """Write ``n_files`` workbooks into ``folder``; return what was generated."""
    config = load_config()
    t0 = time.perf_counter()
    bases = []
    for k, values in enumerate(sample_records().values()):
        placeholder = f"BENCHBASE{k}"
        bases.append((placeholder, filled_workbook_bytes({**values, "record_id": placeholder}, config)))
    built = time.perf_counter() - t0
    for i in range(n_files):
        placeholder, data = bases[i % len(bases)]
        (folder / f"{i:05d}.xlsx").write_bytes(_with_record_id(data, placeholder, f"B{i:06d}"))
    return {
        "distinct_workbooks": len(bases),
        "build_s": built,
        "total_s": time.perf_counter() - t0,
        "bytes_per_file": sum(len(d) for _, d in bases) / len(bases),
    }


# ---------------------------------------------------------------------------- methods (one file each)


def read_openpyxl_default(path: Path) -> dict[str, object]:
    """1. openpyxl's default load, every field read through its defined name."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    values = {}
    for name in NAMES:
        for sheet, ref in wb.defined_names[name].destinations:
            values[name] = wb[sheet][ref.replace("$", "")].value
    wb.close()
    return values


def read_openpyxl_read_only(path: Path) -> dict[str, object]:
    """2. openpyxl read_only + data_only: names resolved, the rows read once, fields picked out.

    (``ws["C4"]`` on a read-only sheet re-scans the sheet XML on every access, ≈2–3 ms a cell;
    reading the rows once is how read-only mode is meant to be used.)
    """
    import openpyxl
    from openpyxl.utils.cell import coordinate_to_tuple

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        wanted: dict[str, list[tuple[str, int, int]]] = {}
        for name in NAMES:
            for sheet, ref in wb.defined_names[name].destinations:
                row, col = coordinate_to_tuple(ref.replace("$", ""))
                wanted.setdefault(sheet, []).append((name, row, col))
        values = {}
        for sheet, cells in wanted.items():
            rows = list(wb[sheet].iter_rows(max_row=max(r for _, r, _ in cells), values_only=True))
            for name, row, col in cells:
                line = rows[row - 1] if row - 1 < len(rows) else ()
                values[name] = line[col - 1] if col - 1 < len(line) else None
        return values
    finally:
        wb.close()


def read_calamine(path: Path) -> list[list[object]]:
    """3. python-calamine alone: the record sheet as a Python grid (no defined names)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        return book.get_sheet_by_name(SHEET).to_python()
    finally:
        book.close()


def read_zip_floor(path: Path) -> int:
    """4. The floor: open the zip and decompress every part; nothing is parsed."""
    with zipfile.ZipFile(path) as zf:
        return sum(len(zf.read(name)) for name in zf.namelist())


def make_validate_file(context: RuleContext) -> Callable[[Path], object]:
    """5. ``validate_file``: our reader (container checks, names, calamine) and every rule."""

    def run(path: Path) -> object:
        return validate_file(path, context)

    return run


# ---------------------------------------------------------------------------- timing


def time_per_file(
    func: Callable[[Path], object], files: list[Path], passes: int
) -> tuple[float, list[float]]:
    """Best total over ``passes`` passes of ``func`` over every file (one warm-up call first)."""
    func(files[0])
    totals = []
    for _ in range(passes):
        t0 = time.perf_counter()
        for path in files:
            func(path)
        totals.append(time.perf_counter() - t0)
    return min(totals), totals


def time_call(func: Callable[[], object], passes: int) -> tuple[float, list[float]]:
    totals = []
    for _ in range(passes):
        t0 = time.perf_counter()
        func()
        totals.append(time.perf_counter() - t0)
    return min(totals), totals


def run_process(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=PROJECT_ROOT, capture_output=True, env=_child_env())


def time_process(args: list[str], passes: int) -> tuple[float, list[float], subprocess.CompletedProcess]:
    totals, last = [], None
    for _ in range(passes):
        t0 = time.perf_counter()
        last = run_process(args)
        totals.append(time.perf_counter() - t0)
    return min(totals), totals, last


def heavy_modules_on_validate_path(
    one_file: Path, packages: tuple[str, ...] = HEAVY_PACKAGES
) -> list[str] | str:
    """The heavy packages in sys.modules after ``cli.main(['validate', one_file, ...])``."""
    code = (
        "import sys, io, contextlib, ledger_tools.cli as c\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    c.main(['validate', {str(one_file)!r}, '--format', 'json'])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {packages!r}))\n"
    )
    done = run_process([sys.executable, "-c", code])
    if done.returncode != 0:
        return f"error (exit {done.returncode}): {done.stderr.decode(errors='replace').strip()[-300:]}"
    import ast

    return ast.literal_eval(done.stdout.decode().strip().splitlines()[-1])


# ---------------------------------------------------------------------------- report


def machine() -> dict[str, object]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "openpyxl": version("openpyxl"),
        "python-calamine": version("python-calamine"),
        "ledger-tools": version("ledger-tools"),
    }


def print_table(rows: list[dict[str, object]], n_files: int) -> None:
    reference = next(r["total_s"] for r in rows if r["key"] == "openpyxl_default")
    floor = next(r["total_s"] for r in rows if r["key"] == "zip_floor")
    header = f"{'method':<58} {'total s':>9} {'ms/file':>9} {'× faster':>9} {'× floor':>8}  passes"
    print(header)
    print("-" * len(header))
    for r in rows:
        r["ms_per_file"] = r["total_s"] / n_files * 1000
        r["x_faster_than_openpyxl_default"] = reference / r["total_s"]
        r["x_slower_than_floor"] = r["total_s"] / floor
        print(
            f"{r['label']:<58} {r['total_s']:>9.3f} {r['ms_per_file']:>9.3f} "
            f"{r['x_faster_than_openpyxl_default']:>8.1f}× {r['x_slower_than_floor']:>7.1f}×  {r['passes_note']}"
        )
    print("  × faster = openpyxl default total / this total;  × floor = this total / zip floor total")


# ---------------------------------------------------------------------------- issue 11 targets


def _child_run(args: list[str]) -> tuple[float, float, int]:
    """Wall s, CPU s (user + system) and peak RSS (KiB, Linux) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, cwd=PROJECT_ROOT, env=_child_env())
    if hasattr(os, "wait4"):
        _pid, _status, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss
    proc.wait()
    return time.perf_counter() - start, float("nan"), 0


# Child processes keep their bytecode in this folder (set by ``main``): an installed package has its
# .pyc files, so start-up is measured with them, even where PYTHONDONTWRITEBYTECODE is set (the
# first of the passes writes them; the best pass is kept).
PYCACHE: Path | None = None


def _child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    if PYCACHE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def import_breakdown(args: list[str], passes: int = 3) -> list[tuple[str, int, float]]:
    """``python -X importtime``: the modules of the project, pydantic and the packages they pull in
    (depth, name, cumulative ms), best of ``passes``, each above 1 ms."""
    best: dict[str, tuple[int, float]] = {}
    order: list[str] = []
    for _ in range(passes):
        done = subprocess.run(
            [args[0], "-X", "importtime", *args[1:]],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            env=_child_env(),
        )
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            _self, cumulative, name = line.removeprefix("import time:").split("|")
            depth = (len(name) - len(name.lstrip())) // 2
            name, ms = name.strip(), int(cumulative) / 1000
            if name not in best:
                order.append(name)
            if name not in best or ms < best[name][1]:
                best[name] = (depth, ms)
    return [(best[n][0], n, best[n][1]) for n in order if best[n][1] >= 1.0 and best[n][0] <= 2]


def own_work(one_file: Path, passes: int) -> float:
    """Seconds a second ``validate ONE_FILE`` takes in a process that has run one already: the work
    the file itself costs (its worker process, reading, rules, the report), without the imports."""
    code = (
        "import contextlib, io, sys, time\n"
        "from ledger_tools import cli\n"
        f"args = ['validate', {str(one_file)!r}, '--format', 'json', '--as-of', {AS_OF.isoformat()!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli.main(args)\n"
        "    start = time.perf_counter()\n"
        "    cli.main(args)\n"
        "print(time.perf_counter() - start)\n"
    )
    return min(float(run_process([sys.executable, "-c", code]).stdout.split()[-1]) for _ in range(passes))


def issue11_targets(folder: Path, repeat: int) -> None:
    """The issue 11 figures, as ratios measured in this one run (informative: printed, not asserted)."""
    files = sorted(folder.glob("*.xlsx"))
    one = files[0]
    py = sys.executable
    cli = [py, "-m", "ledger_tools", "validate"]
    passes = max(repeat, 9)
    print(f"\nissue 11 targets (best of {passes}, alternated; wall and CPU time of each process)")
    commands = {
        "python -c pass": [py, "-c", "pass"],
        "validate ONE_FILE": [*cli, str(one), "--format", "json", "--as-of", AS_OF.isoformat()],
    }
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in commands}
    for _ in range(passes):  # alternated, so that both see the same load of a shared machine
        for name, args in commands.items():
            runs[name].append(_child_run(args))
    best: dict[str, tuple[float, float]] = {}
    for name in commands:
        best[name] = (min(r[0] for r in runs[name]), min(r[1] for r in runs[name]))
        print(f"  {name:24} wall {best[name][0] * 1000:7.1f} ms   cpu {best[name][1] * 1000:7.1f} ms")
    wall = best["validate ONE_FILE"][0] / best["python -c pass"][0]
    cpu = best["validate ONE_FILE"][1] / best["python -c pass"][1]
    print(f"  start-up ratio: {wall:.2f}× wall, {cpu:.2f}× CPU (target ≤ 3× plus the file's own work)")
    own = own_work(one, passes)
    budget = 3 * best["python -c pass"][0] + own
    verdict = "PASS" if best["validate ONE_FILE"][0] <= budget else "FAIL"
    print(
        f"  the file's own work (a second validate of it in the same process: worker, read, rules, report)"
        f" {own * 1000:.1f} ms → {verdict}: {best['validate ONE_FILE'][0] * 1000:.1f} ms against 3 × "
        f"{best['python -c pass'][0] * 1000:.1f} + {own * 1000:.1f} = {budget * 1000:.1f} ms;"
        f" start-up alone {(best['validate ONE_FILE'][0] - own) / best['python -c pass'][0]:.2f}× python -c pass"
    )
    heavy = heavy_modules_on_validate_path(one, (*HEAVY_PACKAGES, "pydantic"))
    top = sorted({m.split(".")[0] for m in heavy}) if isinstance(heavy, list) else heavy
    print(
        f"  heavy packages imported by validate ONE_FILE ({'/'.join(HEAVY_PACKAGES)}/pydantic): {top or 'none'}"
    )
    print("  python -X importtime of validate ONE_FILE (cumulative ms, best of 3; top levels, ≥ 1 ms):")
    for depth, name, ms in import_breakdown(
        [*cli, str(one), "--format", "json", "--as-of", AS_OF.isoformat()]
    ):
        print(f"    {'  ' * depth}{name:<{48 - 2 * depth}} {ms:7.1f}")

    sizes = [k for k in (1000, len(files)) if k <= len(files)]
    if len(sizes) == 2 and sizes[0] < sizes[1]:
        peaks = {}
        for k in sizes:
            sub = folder.parent / f"first{k}"
            sub.mkdir(exist_ok=True)
            for f in files[:k]:
                target = sub / f.name
                if not target.exists():
                    os.link(f, target)
            peaks[k] = _child_run([*cli, str(sub), "--format", "json", "--as-of", AS_OF.isoformat()])[2]
        a, b = sizes
        growth = (peaks[b] - peaks[a]) / (b - a)
        print(
            f"  peak RSS of validate DIR: {peaks[a] / 1024:.0f} MiB at {a:,} files, {peaks[b] / 1024:.0f} MiB at"
            f" {b:,} files → {growth:.2f} KiB per file (target ≤ 3 KiB)"
        )
    config = load_config()
    timings, outputs = {}, {}
    for workers in (1, 2):
        start = time.perf_counter()
        report = validate_paths([folder], config, AS_OF, workers=workers)
        timings[workers] = time.perf_counter() - start
        outputs[workers] = json.dumps(report.to_dict(), ensure_ascii=False)
    same = "identical" if outputs[1] == outputs[2] else "DIFFERENT"
    print(
        f"  validate_paths on {len(files):,} files: 1 worker {timings[1]:.2f} s, 2 workers {timings[2]:.2f} s"
        f" → {timings[1] / timings[2]:.2f}× (target ≥ 1.6×); output {same}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000, help="number of workbooks (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="passes per method, best kept (default 3)")
    parser.add_argument(
        "--openpyxl-full-limit",
        type=int,
        default=200,
        help="above this many files the openpyxl default reader runs one pass only (default 200)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--targets-only",
        action="store_true",
        help="only the issue 11 figures: start-up ratio, memory per file (1,000 vs N files), 1 vs 2 workers",
    )
    args = parser.parse_args(argv)
    if args.files < 1 or args.repeat < 1:
        parser.error("--files and --repeat must be at least 1")
    n, repeat = args.files, args.repeat

    info = machine()
    started = dt.datetime.now().isoformat(timespec="seconds")
    print(f"bench_validate  {started}")
    print(
        f"machine: {info['platform']} | {info['processor']} | {info['cpu_count']} CPUs | "
        f"{info['implementation']} {info['python']}"
    )
    print(
        f"libraries: openpyxl {info['openpyxl']}, python-calamine {info['python-calamine']}, "
        f"ledger-tools {info['ledger-tools']}"
    )

    global PYCACHE
    with tempfile.TemporaryDirectory(prefix="bench_validate_") as tmp:
        PYCACHE = Path(tmp) / "pycache"
        print(f"child processes: bytecode cached in {PYCACHE} (as an installed package has it)")
        folder = Path(tmp) / "inbox"
        folder.mkdir()
        gen = generate_inputs(folder, n)
        if args.targets_only:
            issue11_targets(folder, repeat)
            return 0
        files = sorted(folder.iterdir())
        print(
            f"inputs: {n} files ({gen['distinct_workbooks']} distinct workbooks built in {gen['build_s']:.2f} s, "
            f"each file a copy with its own record_id; ≈{gen['bytes_per_file'] / 1024:.1f} KiB each; "
            f"written in {gen['total_s']:.2f} s; files are in the OS cache)"
        )
        print(f"passes: best of {repeat}; as_of {AS_OF}\n")

        config = load_config()
        context = RuleContext(config, AS_OF)
        rows: list[dict[str, object]] = []

        def add(key: str, label: str, best: float, totals: list[float], note: str = "") -> None:
            rows.append(
                {
                    "key": key,
                    "label": label,
                    "total_s": best,
                    "passes_s": totals,
                    "passes_note": note or f"best of {len(totals)}",
                }
            )
            print(f"  measured {label}: {best:.3f} s", file=sys.stderr, flush=True)

        openpyxl_passes = repeat if n <= args.openpyxl_full_limit else 1
        best, totals = time_per_file(read_openpyxl_default, files, openpyxl_passes)
        note = (
            f"best of {openpyxl_passes}"
            if openpyxl_passes > 1
            else ("1 pass" + (f" (N > {args.openpyxl_full_limit})" if repeat > 1 else ""))
        )
        add("openpyxl_default", "1 openpyxl load_workbook(path) + defined names", best, totals, note)
        best, totals = time_per_file(read_openpyxl_read_only, files, repeat)
        add("openpyxl_read_only", "2 openpyxl read_only=True, data_only=True", best, totals)
        best, totals = time_per_file(read_calamine, files, repeat)
        add("calamine", "3 python-calamine from_path + to_python (one sheet)", best, totals)
        best, totals = time_per_file(read_zip_floor, files, repeat)
        add("zip_floor", "4 zip floor: open + decompress every part", best, totals)
        best, totals = time_per_file(make_validate_file(context), files, repeat)
        add("validate_file", "5 validate_file per file (in-process)", best, totals)

        validate_paths([files[0]], config, AS_OF)  # warm-up
        best, totals = time_call(lambda: validate_paths([folder], config, AS_OF), repeat)
        report = validate_paths([folder], config, AS_OF)
        add("validate_paths", "6 validate_paths(folder) (in-process)", best, totals)

        cli = [
            sys.executable,
            "-m",
            "ledger_tools",
            "validate",
            str(folder),
            "--format",
            "json",
            "--as-of",
            AS_OF.isoformat(),
        ]
        best, totals, done = time_process(cli, repeat)
        add("cli_process", "7 CLI process: python -m ledger_tools validate DIR", best, totals)
        cli_exit, cli_output_bytes = done.returncode, len(done.stdout)

        startup_passes = max(repeat, 5)
        startup = {}
        for key, label, command in (
            (
                "cli_one_file",
                "python -m ledger_tools validate ONEFILE --format json",
                [
                    sys.executable,
                    "-m",
                    "ledger_tools",
                    "validate",
                    str(files[0]),
                    "--format",
                    "json",
                    "--as-of",
                    AS_OF.isoformat(),
                ],
            ),
            (
                "import_cli",
                'python -c "import ledger_tools.cli"',
                [sys.executable, "-c", "import ledger_tools.cli"],
            ),
            ("bare_python", 'python -c "pass" (interpreter alone)', [sys.executable, "-c", "pass"]),
        ):
            best, totals, _ = time_process(command, startup_passes)
            startup[key] = {"label": label, "best_s": best, "passes_s": totals}
        heavy = heavy_modules_on_validate_path(files[0])

    statuses: dict[str, int] = {}
    for f in report.files:
        statuses[str(getattr(f.status, "value", f.status))] = (
            statuses.get(str(getattr(f.status, "value", f.status)), 0) + 1
        )
    findings = sum(len(f.findings) for f in report.files)

    print()
    print_table(rows, n)
    print()
    print(f"validate_paths result: {len(report.files)} files, statuses {statuses}, {findings} findings")
    print(f"CLI: exit code {cli_exit}, {cli_output_bytes:,} bytes of JSON on stdout")
    print()
    print(f"start-up (best of {startup_passes}, wall ms per process):")
    for s in startup.values():
        print(f"  {s['label']:<58} {s['best_s'] * 1000:>8.1f} ms")
    by_key = {r["key"]: r for r in rows}
    cli_total = by_key["cli_process"]["total_s"]
    cli_marginal = (cli_total - startup["cli_one_file"]["best_s"]) / (n - 1) * 1000 if n > 1 else None
    if cli_marginal is not None:
        print(
            f"  CLI marginal cost per file ≈ (whole process − one-file process) / (N − 1) = {cli_marginal:.3f} ms"
        )
    heavy_text = (
        ", ".join(heavy)
        if isinstance(heavy, list) and heavy
        else ("none" if isinstance(heavy, list) else heavy)
    )
    print(f"heavy modules imported by the validate path ({'/'.join(HEAVY_PACKAGES)}): {heavy_text}")

    vf = by_key["validate_file"]["ms_per_file"]
    vp = by_key["validate_paths"]["ms_per_file"]
    speedup = by_key["openpyxl_default"]["total_s"] / cli_total
    targets = [
        {
            "target": "validate ≤ 1 ms/file",
            "value": f"validate_file {vf:.3f} ms/file (validate_paths {vp:.3f})",
            "pass": vf <= 1.0,
        },
        {
            "target": "whole process ≥ 10× faster than openpyxl default",
            "value": f"{speedup:.1f}× (CLI {cli_total:.2f} s vs openpyxl default {by_key['openpyxl_default']['total_s']:.2f} s)",
            "pass": speedup >= 10.0,
        },
    ]
    print("\ntargets (informative only):")
    for t in targets:
        print(f"  {'PASS' if t['pass'] else 'FAIL'}  {t['target']:<50} {t['value']}")

    if args.json:
        result = {
            "started": started,
            "machine": info,
            "files": n,
            "repeat": repeat,
            "as_of": AS_OF.isoformat(),
            "inputs": gen,
            "rows": rows,
            "startup": startup,
            "cli_exit": cli_exit,
            "cli_output_bytes": cli_output_bytes,
            "cli_marginal_ms_per_file": cli_marginal,
            "heavy_modules": heavy,
            "validate_statuses": statuses,
            "validate_findings": findings,
            "targets": targets,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
