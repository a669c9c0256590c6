"""Benchmark: the path table on Spark (local mode) vs the pandas engine.

For each ``--accounts`` size a generator data set is built once (untimed) and
written to Parquet in a temporary folder. Each engine then runs ``--repeats``
times, **reading included**:

- ``pandas``: ``pd.read_parquet`` of touchpoints and opportunities, then
  ``features.journeys.build_journeys(...).paths``;
- ``spark``: ``features.spark_engine.read_tables_spark`` then
  ``build_path_table_spark(...).toPandas()`` (the path table collected to the
  driver, as the attribution models consume it).

One Spark session (``local[N]``, UI off, session time zone UTC) is started
before the runs; its start-up time is reported separately. The script checks
that both engines give the same table (``pandas.testing.assert_frame_equal``)
and prints a Markdown table with the median and min wall times.

Usage::

    python benchmarks/bench_spark_paths.py --accounts 2000 20000 --repeats 3
    python benchmarks/bench_spark_paths.py --accounts 2000 --cores 2 --shuffle-partitions 8
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

# pyspark 4.3 warns that it does not fully support pandas 3 on every conversion.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from features.journeys import JourneyConfig, build_journeys  # noqa: E402
from features.spark_engine import build_path_table_spark, read_tables_spark  # noqa: E402
from features.synthetic import generate_dataset, write_dataset  # noqa: E402

TABLES = ("touchpoints", "opportunities")


def _timed(fn, repeats: int) -> tuple[list[float], pd.DataFrame]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def run_pandas(folder: Path, config: JourneyConfig) -> pd.DataFrame:
    tp = pd.read_parquet(folder / "touchpoints.parquet")
    opp = pd.read_parquet(folder / "opportunities.parquet")
    return build_journeys(tp, opp, config=config).paths


def run_spark(spark, folder: Path, config: JourneyConfig) -> pd.DataFrame:
    tables = read_tables_spark(spark, folder, tables=TABLES)
    return build_path_table_spark(
        spark, tables["touchpoints"], tables["opportunities"], config=config
    ).toPandas()


def start_spark(cores: int, shuffle_partitions: int):
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("bench_spark_paths")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[2_000, 20_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=2, help="Spark local[N]")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--lookback-days", type=float, default=365)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = JourneyConfig(lookback_days=args.lookback_days)

    t0 = time.perf_counter()
    spark = start_spark(args.cores, args.shuffle_partitions)
    spark.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - t0
    print(f"spark {spark.version} local[{args.cores}] started in {startup:.1f} s", flush=True)

    rows = []
    try:
        for n in args.accounts:
            ds = generate_dataset(n, seed=args.seed)
            n_touch = len(ds.tables["touchpoints"])
            n_opp = len(ds.tables["opportunities"])
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                write_dataset(ds, folder, format="parquet")
                del ds
                # one warm-up run of Spark (JIT, first-job costs), untimed
                run_spark(spark, folder, config)
                p_times, p_table = _timed(lambda: run_pandas(folder, config), args.repeats)
                s_times, s_table = _timed(lambda: run_spark(spark, folder, config), args.repeats)
            pd.testing.assert_frame_equal(s_table, p_table)
            for engine, times in (("pandas", p_times), ("spark", s_times)):
                med, best = statistics.median(times), min(times)
                rows.append((n, n_touch, n_opp, engine, med, best, len(p_table)))
            print(f"{n} accounts done", flush=True)
    finally:
        spark.stop()

    print()
    print(
        "| accounts | touchpoints | opportunities | engine | median s | min s | paths "
        "| same table |"
    )
    print("| ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |")
    for n, nt, no, engine, med, mn, paths in rows:
        same = "-" if engine == "pandas" else "identical"
        print(f"| {n:,} | {nt:,} | {no:,} | {engine} | {med:.2f} | {mn:.2f} | {paths:,} | {same} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
