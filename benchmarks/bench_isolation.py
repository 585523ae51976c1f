"""What reading every file in an isolated worker process costs `validate`.

    python benchmarks/bench_isolation.py [--files 1000] [--repeat 3] [--workers 1]

Generates N small filled forms (as bench_validate.py does) and times ``validate_paths`` over the
folder, best of ``--repeat`` passes, in ms per file. Run it with PYTHONPATH pointing at the
version to measure (the worker processes came with issue 9). No assertion.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_validate import generate_inputs

from ledger_tools.check.validation import validate_paths
from ledger_tools.config import load_config


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    args = parser.parse_args()
    config = load_config()
    options = {"workers": args.workers} if "workers" in inspect.signature(validate_paths).parameters else {}
    with tempfile.TemporaryDirectory() as folder:
        generate_inputs(Path(folder), args.files)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = validate_paths([Path(folder)], config, dt.date(2026, 11, 25), **options)
            best = min(best, time.perf_counter() - start)
        assert len(report.files) == args.files
    isolated = "isolated workers" if options else "in-process (before issue 9)"
    print(
        f"{args.files} files, {isolated}, workers={args.workers}: {best * 1000 / args.files:.2f} ms per file"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
