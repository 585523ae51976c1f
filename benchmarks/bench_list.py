"""How fast a large list-format workbook validates, against reading it with calamine and openpyxl.

    python benchmarks/bench_list.py [--rows 50000] [--skip-openpyxl] [--repeat 1]

Builds one list workbook of N rows (one real row written by the template, replicated in the
sheet XML with distinct record ids), then in one run measures: ledger-tools validation of the
whole file (every row a record), python-calamine reading the sheet alone, openpyxl's read-only
mode iterating every cell, and the peak memory of the validation in a child process.
``--repeat R`` validates R times, each followed by three calamine reads, and compares the best
of each (on a shared machine a single run can fall in a busy moment), and each validation with the
reads right after it (their median). Reports ratios; no assertion.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

AS_OF = dt.date(2026, 11, 25)


def build_list(rows: int, path: Path) -> None:
    from ledger_tools.config import load_config
    from ledger_tools.form.list_template import list_template_bytes
    from ledger_tools.form.samples import complete_values

    template = list_template_bytes(load_config(), [complete_values(record_id="L-0000000")])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                # the one record's row (the rows above it are the list's headings)
                first = next(
                    m
                    for m in re.finditer(rb'<row r="(\d+)".*?</row>', content, re.S)
                    if b"L-0000000" in m.group(0)
                )
                row, start = first.group(0), int(first.group(1))
                copies = []
                for i in range(rows):
                    number = start + i
                    copy = re.sub(
                        rb'r="([A-Z]+)%d"' % start,
                        lambda m, number=number: b'r="%s%d"' % (m.group(1), number),
                        row,
                    )
                    copies.append(
                        copy.replace(b'<row r="%d"' % start, b'<row r="%d"' % number, 1).replace(
                            b"L-0000000", b"L-%07d" % i
                        )
                    )
                content = content[: first.start()] + b"".join(copies) + content[first.end() :]
            dst.writestr(info, content)
    path.write_bytes(out.getvalue())


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the validation's worker)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system  # children: 0 on Windows


def timed(func):
    start, cpu = time.perf_counter(), _cpu()
    result = func()
    return time.perf_counter() - start, _cpu() - cpu, result


def validate(path: Path):
    from ledger_tools.check.validation import validate_paths
    from ledger_tools.config import load_config

    return validate_paths([path], load_config(), AS_OF)


def calamine_read(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    return len(CalamineWorkbook.from_path(str(path)).get_sheet_by_name("対応記録簿一覧").to_python())


def openpyxl_read_only(path: Path) -> int:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = wb["対応記録簿一覧"]
    sheet.reset_dimensions()  # the stored dimension may be stale; read every row there is
    count = sum(1 for row in sheet.iter_rows(values_only=True) for _ in row)
    wb.close()
    return count


def peak_memory_of_validation(path: Path) -> str:
    """Peak RSS of a child process that validates the file (the parent's memory does not count)."""
    code = (
        "import resource, sys, datetime as dt; from pathlib import Path;"
        "from ledger_tools.config import load_config; from ledger_tools.check.validation import validate_paths;"
        f"validate_paths([Path({str(path)!r})], load_config(), dt.date({AS_OF.year}, {AS_OF.month}, {AS_OF.day}));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        return f"{int(out.strip()) / 1024:.0f} MiB"
    except (subprocess.CalledProcessError, ValueError, ImportError):
        return "n/a (needs the resource module: not on Windows)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument(
        "--skip-openpyxl", action="store_true", help="skip the slow openpyxl read-only reference"
    )
    parser.add_argument("--repeat", type=int, default=1, help="validations (each with 3 calamine reads)")
    args = parser.parse_args()
    print(
        f"# bench_list: {args.rows:,} rows; {platform.platform()}; {platform.python_version()}; cores={os.cpu_count()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "一覧.xlsx"
        build_list(args.rows, path)
        print(f"file: {path.stat().st_size / 1e6:.1f} MB")
        runs, calamine = [], []
        for _ in range(max(args.repeat, 1)):
            wall, cpu, report = timed(lambda: validate(path))
            statuses = report.summary()
            assert statuses["ok"] == args.rows, statuses  # the replicated rows are all valid
            runs.append((wall, cpu))
            # calamine best of 3 (wall and CPU each): the fastest reference, so the ratio is not flattered
            calamine += [timed(lambda: calamine_read(path))[:2] for _ in range(3)]
        if len(runs) > 1:
            print("validate runs (wall/cpu s): " + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in runs))
            print("calamine runs (wall/cpu s): " + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in calamine))
            # Each validation against the best of the three calamine reads right after it: on a
            # machine whose speed drifts, a pair measured together is the fairer ratio.
            paired = [
                (
                    w / min(x[0] for x in calamine[3 * i : 3 * i + 3]),
                    c / min(x[1] for x in calamine[3 * i : 3 * i + 3]),
                )
                for i, (w, c) in enumerate(runs)
            ]
            print(
                "per round, validate / calamine (wall/cpu): "
                + ", ".join(f"{w:.2f}×/{c:.2f}×" for w, c in paired)
            )
            print(
                f"median of the rounds: {statistics.median(w for w, _ in paired):.2f}× wall, "
                f"{statistics.median(c for _, c in paired):.2f}× cpu"
            )
        wall, cpu = map(min, zip(*runs, strict=True))
        best = f" (best of {len(runs)})" if len(runs) > 1 else ""
        rows = [(f"ledger-tools validate (all rules){best}", wall, cpu)]
        rows.append(
            (f"python-calamine read only (best of {len(calamine)})", *map(min, zip(*calamine, strict=True)))
        )
        if not args.skip_openpyxl:
            rows.append(("openpyxl read-only, every cell", *timed(lambda: openpyxl_read_only(path))[:2]))
        print(f"{'method':40} {'wall s':>8} {'cpu s':>8} {'µs/row':>8} {'vs validate':>12}")
        for name, w, c in rows:
            print(f"{name:40} {w:8.2f} {c:8.2f} {w / args.rows * 1e6:8.1f} {w / wall:11.2f}×")
        calamine_wall, calamine_cpu = rows[1][1], rows[1][2]
        print(
            f"validate / python-calamine: {wall / calamine_wall:.2f}× wall, {cpu / calamine_cpu:.2f}× cpu"
            " (cpu: this process and the worker; wall is noisy on a shared machine)"
        )
        print(f"peak memory of validation (child process): {peak_memory_of_validation(path)}")


if __name__ == "__main__":
    main()
