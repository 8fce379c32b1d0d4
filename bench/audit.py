"""Bias-audit throughput and peak memory against a straightforward pandas group-by.

Run: ./ledger bench bench/audit.py [--rows N] [--repeat R]
Generates N evaluation rows (3 protected attributes, plus feature columns the audit does not
read) into a Parquet and a CSV file in a temporary folder, then audits each file with
governance.evaluation_data (streamed chunks, counts per group) and with pandas (read the
needed columns whole, group by each attribute). Every run is its own subprocess, so its
peak RSS (from wait4) is its own; the median time of R runs is reported."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ATTRIBUTES = ("sex", "ethnicity", "age_band")
INTERSECTION = ("sex", "ethnicity")
SLICES = [(name,) for name in ATTRIBUTES] + [INTERSECTION]
CONTENDERS = ("ledger", "pandas", "idle")
PARQUET, CSV = "evaluation.parquet", "evaluation.csv"


def generate(folder: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(2026)
    sex = rng.choice(["female", "male"], rows)
    ethnicity = rng.choice(["asian", "black", "hispanic", "other", "white"], rows)
    age_band = rng.choice(["18-29", "30-44", "45-64", "65+"], rows)
    label = rng.integers(0, 2, rows)
    score = np.clip(rng.normal(0.45 + 0.1 * label - 0.05 * (sex == "female"), 0.2), 0, 1)
    table = pa.table(
        {
            "id": np.arange(rows),
            "label": label,
            "prediction": (score >= 0.5).astype(np.int8),
            "score": score,
            "sex": sex,
            "ethnicity": ethnicity,
            "age_band": age_band,
            **{f"feature_{i}": rng.random(rows) for i in range(4)},
        }
    )
    pq.write_table(table, folder / PARQUET, row_group_size=131_072)
    pacsv.write_csv(table, folder / CSV)


# -- the contenders, each run in its own process --------------------------------------------


def run_ledger(path: Path, fmt: str) -> dict:
    from governance.evaluation_data import audit_file
    from governance.fairness import AuditSpec

    spec = AuditSpec(attributes=ATTRIBUTES, intersections=(INTERSECTION,))
    with path.open("rb") as source:
        result = audit_file(source, format=fmt, spec=spec)
    return {
        " & ".join(item.attributes): {
            group.group: [group.counts.n, group.counts.selected, group.counts.tp]
            for group in item.groups
        }
        for item in result.slices
    }


def run_pandas(path: Path, fmt: str) -> dict:
    import pandas as pd

    columns = ["label", "prediction", *ATTRIBUTES]
    if fmt == "parquet":
        df = pd.read_parquet(path, columns=columns)
    else:
        df = pd.read_csv(path, usecols=columns)
    df["tp"] = df["label"] & df["prediction"]
    summary = {}
    for combo in SLICES:
        groups = df.groupby(list(combo), observed=True).agg(
            n=("label", "size"),
            selected=("prediction", "sum"),
            positives=("label", "sum"),
            tp=("tp", "sum"),
        )
        fp = groups["selected"] - groups["tp"]
        rate = groups["selected"] / groups["n"]
        tpr = groups["tp"] / groups["positives"]
        fpr = fp / (groups["n"] - groups["positives"])
        top = rate.idxmax()
        groups["dir"] = rate / rate[top]
        groups["spd"] = rate - rate[top]
        groups["eod"] = pd.concat([(tpr - tpr[top]).abs(), (fpr - fpr[top]).abs()], axis=1).max(
            axis=1
        )
        summary[" & ".join(combo)] = {
            (" & ".join(key) if isinstance(key, tuple) else key): [
                int(row.n),
                int(row.selected),
                int(row.tp),
            ]
            for key, row in groups.iterrows()
        }
    return summary


def worker(contender: str, path: Path, fmt: str) -> None:
    # The same libraries in every contender, so the idle run shows what imports alone cost.
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import scipy.stats  # noqa: F401

    started = time.perf_counter()
    if contender == "ledger":
        counts = run_ledger(path, fmt)
    elif contender == "pandas":
        counts = run_pandas(path, fmt)
    else:
        counts = {}
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "counts": counts}))


def measure(contender: str, path: Path, fmt: str) -> tuple[float, int, dict]:
    """(seconds, peak RSS in bytes, per-group counts) of one run in a fresh process."""
    command = [
        sys.executable,
        __file__,
        "--worker",
        contender,
        "--path",
        str(path),
        "--format",
        fmt,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{contender} on {fmt} failed with status {process.returncode}")
    report = json.loads(output)
    return report["seconds"], usage.ru_maxrss * 1024, report["counts"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender and format")
    parser.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--format", choices=("csv", "parquet"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.path, args.format)
        return
    if args.generate:
        generate(args.generate, args.rows)
        return

    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        started = time.perf_counter()
        # Generated in a child process: a forked child's peak RSS starts from its parent's, so
        # the parent must stay small for the children's figures to be their own.
        subprocess.run(
            [sys.executable, __file__, "--generate", folder, "--rows", str(args.rows)], check=True
        )
        paths = {"parquet": Path(folder) / PARQUET, "csv": Path(folder) / CSV}
        sizes = {fmt: path.stat().st_size for fmt, path in paths.items()}
        print(
            f"{args.rows:,} rows, 3 protected attributes + sex x ethnicity, generated in "
            f"{time.perf_counter() - started:.1f} s: Parquet {sizes['parquet'] / 2**20:.1f} MiB,"
            f" CSV {sizes['csv'] / 2**20:.1f} MiB; median of {args.repeat} runs each"
        )
        results: dict[tuple[str, str], tuple[list[float], list[int]]] = {}
        agree = {}
        for _ in range(args.repeat):
            # Alternating contenders so background noise hits all of them alike.
            for fmt, path in paths.items():
                counts = {}
                for contender in CONTENDERS:
                    seconds, rss, counts[contender] = measure(contender, path, fmt)
                    times, peaks = results.setdefault((contender, fmt), ([], []))
                    times.append(seconds)
                    peaks.append(rss)
                agree[fmt] = counts["ledger"] == counts["pandas"]

    print(
        f"\n{'contender':<44}{'rows/s':>14}{'seconds':>10}{'peak RSS':>12}"
        f"{'above idle':>12}{'vs pandas':>11}"
    )
    for fmt in paths:
        idle = statistics.median(results[("idle", fmt)][1])
        pandas_time = statistics.median(results[("pandas", fmt)][0])
        for contender, name in (
            ("pandas", f"pandas group-by, {fmt} (baseline)"),
            ("ledger", f"governance.evaluation_data, {fmt}"),
        ):
            times, peaks = results[(contender, fmt)]
            seconds, peak = statistics.median(times), max(peaks)
            print(
                f"{name:<44}{args.rows / seconds:>14,.0f}{seconds:>10.2f}"
                f"{peak / 2**20:>9.0f} MiB{(peak - idle) / 2**20:>8.0f} MiB"
                f"{pandas_time / seconds:>10.2f}x"
            )
        print(f"{'  (interpreter + imports only)':<44}{'':>24}{idle / 2**20:>9.0f} MiB")
    for fmt, same in agree.items():
        print(f"per-group counts, {fmt}: {'identical to pandas' if same else 'DIFFER FROM PANDAS'}")


if __name__ == "__main__":
    main()
