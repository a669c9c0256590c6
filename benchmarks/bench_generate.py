"""Benchmark of the synthetic data generator (features.synthetic).

Times :func:`features.synthetic.generate_dataset` (median of ``--repeats``),
then the time to write the data set as Parquet (and optionally CSV), and
reports the touchpoint count and the process's peak resident set size. Prints
one Markdown table row (with the header when ``--header`` is given).

Usage::

    python benchmarks/bench_generate.py --accounts 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.synthetic import generate_dataset, write_dataset  # noqa: E402

HEADER = (
    "| accounts | touchpoints | opportunities | generate s (median) | write parquet s "
    "| write csv s | peak RSS MB |\n"
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", action="store_true", help="also time writing CSV")
    parser.add_argument("--header", action="store_true", help="print the table header")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    times = []
    ds = None
    for _ in range(max(args.repeats, 1)):
        ds = None  # free the previous data set before the next run
        t0 = time.perf_counter()
        ds = generate_dataset(args.accounts, seed=args.seed)
        times.append(time.perf_counter() - t0)
    assert ds is not None
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_dataset(ds, Path(tmp) / "parquet", format="parquet")
        t_parquet = time.perf_counter() - t0
        t_csv = float("nan")
        if args.csv:
            t0 = time.perf_counter()
            write_dataset(ds, Path(tmp) / "csv", format="csv")
            t_csv = time.perf_counter() - t0
    if args.header:
        print(HEADER)
    print(
        f"| {args.accounts:,} | {len(ds.tables['touchpoints']):,} "
        f"| {len(ds.tables['opportunities']):,} | {statistics.median(times):.1f} "
        f"| {t_parquet:.1f} | {t_csv:.1f} | {peak_rss_mb():,.0f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
