"""Benchmark: building the path table, ours vs DuckDB SQL vs plain pandas.

The data (touchpoints, opportunities) are built once, untimed, and written to
Parquet in a temporary folder. Each engine then runs in its own subprocess
(clean memory accounting): it reads the Parquet files (untimed; DuckDB copies
them into native tables first, its best case), runs the path-table build
``--repeats`` times, and reports the median wall time, the peak resident
memory *added* during the runs (RSS sampled every 5 ms from /proc, minus the
RSS before the first run) and the process's ``ru_maxrss``. The parent checks
that every engine produced the same path table (same paths and counts, values
to 1e-6 relative) and prints a Markdown table.

All engines implement the same definition (features/journeys.py): converting
journeys = an account's touches in (previous opportunity, this opportunity's
created_at] within the lookback; non-converting = touches after the last
opportunity within the lookback before the observation end; touches ordered
by (timestamp, touchpoint_id); conversions without touches are not paths.

Usage::

    python benchmarks/bench_path_table.py --accounts 20000 --touches-per-account 500
    python benchmarks/bench_path_table.py --source random --engines ours,duckdb,pandas

Latest results (2-core VM shared with other jobs, load average 4-5 during the
runs, so absolute times are inflated and noisy; ratios are the point):

``--source generator --accounts 20000 --repeats 3`` (10,078,371 touchpoints,
11,771 opportunities, 14 channels, timestamps in seconds over two years)::

    | engine    | median s | min s | peak added MB | process max RSS MB | paths  | ratio | same table |
    | ours      |     2.92 |  2.77 |           433 |               2544 | 31,658 |  1.00 | -          |
    | duckdb    |    11.36 |  9.13 |           941 |               2292 | 31,658 |  3.89 | identical  |
    | duckdb-ts |     8.36 |  8.17 |           720 |               2132 | 31,658 |  2.86 | different  |

``--source random --accounts 20000 --touches-per-account 500`` (10,000,000
touchpoints, 30,172 opportunities, 13 channels)::

    | engine | median s | min s | peak added MB | process max RSS MB | paths  | ratio | same table |
    | ours   |     3.01 |  2.29 |           364 |               2553 | 49,797 |  1.00 | -          |
    | duckdb |    14.25 |  6.25 |          1116 |               2545 | 49,797 |  4.73 | identical  |
    | pandas |    78.89 | 58.58 |          2487 |               4672 | 49,797 | 26.17 | identical  |

"process max RSS" includes the input frames (about 2.2 GB); "duckdb-ts"
orders by timestamp only and so differs on tied touches.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOOKBACK_DAYS = 365
CHANNELS = (
    "display", "email", "events", "paid_search", "paid_social", "organic_search",
    "webinar", "direct_mail", "sdr_call", "content_syndication", "intent_data",
    "website", "partner",
)
CHANNEL_P = np.array([12, 18, 3, 10, 9, 8, 5, 2, 6, 4, 7, 14, 2], dtype=float)


# ------------------------------------------------------------------ data


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def random_tables(n_accounts: int, touches_per_account: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Random contract-shaped touchpoints and opportunities (rows shuffled)."""
    rng = np.random.default_rng(seed)
    n = n_accounts * touches_per_account
    start = pd.Timestamp("2024-01-01", tz="UTC").value // 10**9
    span = 2 * 365 * 86_400  # two years of touches, whole seconds
    account = rng.integers(0, n_accounts, n)
    secs = start + rng.integers(0, span, n)
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_P / CHANNEL_P.sum()).astype(np.int32)
    account_ids = _ids("acc", np.arange(n_accounts))
    channel_names = pa.array(CHANNELS)
    contact = np.where(rng.random(n) < 0.3, -1, account * 8 + rng.integers(0, 8, n))
    contact_ids = _ids("con", np.maximum(contact, 0))
    contact_ids = pc.if_else(pa.array(contact < 0), pa.scalar(None, pa.string()), contact_ids)
    touch = pa.table(
        {
            "touchpoint_id": _ids("tp", rng.permutation(n)),
            "account_id": account_ids.take(pa.array(account)),
            "contact_id": contact_ids,
            "timestamp": pa.array(secs * 10**9, pa.timestamp("ns", tz="UTC")),
            "channel": channel_names.take(pa.array(channel)),
            "signal": pc.binary_join_element_wise(channel_names.take(pa.array(channel)), "touch", "_"),
            "campaign_id": _ids("cmp", rng.integers(0, 500, n)),
            "asset_id": _ids("ast", rng.integers(0, 2000, n)),
            "cost": rng.gamma(2.0, 20.0, n),
        }
    )
    n_opp = rng.poisson(1.5, n_accounts)
    opp_account = np.repeat(np.arange(n_accounts), n_opp)
    m = len(opp_account)
    created = start + 60 * 86_400 + rng.integers(0, span - 60 * 86_400, m)
    closed = created + rng.integers(20, 200, m) * 86_400
    won = rng.random(m) < 0.3
    opp = pa.table(
        {
            "opportunity_id": _ids("opp", rng.permutation(m)),
            "account_id": account_ids.take(pa.array(opp_account)),
            "created_at": pa.array(created * 10**9, pa.timestamp("ns", tz="UTC")),
            "closed_at": pa.array(closed * 10**9, pa.timestamp("ns", tz="UTC")),
            "stage": pa.array(np.where(won, "closed_won", "closed_lost")),
            "is_won": pa.array(won),
            "amount": np.round(rng.lognormal(10.5, 0.8, m), 2),
        }
    )
    return {"touchpoints": touch, "opportunities": opp}


def generator_tables(n_accounts: int, seed: int = 0) -> dict[str, pa.Table]:
    from features.synthetic import generate_dataset

    tables = generate_dataset(n_accounts, seed=seed).tables
    return {
        k: pa.Table.from_pandas(tables[k], preserve_index=False)
        for k in ("touchpoints", "opportunities")
    }


# ------------------------------------------------------------------ engines


def run_ours(data: Path, end: pd.Timestamp) -> pd.DataFrame:
    from features.journeys import JourneyConfig, build_journeys  # imported in _prepare

    tp, opp = _STATE["tp"], _STATE["opp"]
    cfg = JourneyConfig(lookback_days=LOOKBACK_DAYS, observation_end=end)
    return build_journeys(tp, opp, config=cfg).paths


DUCKDB_SQL = """
WITH ev AS (
    SELECT account_id, opportunity_id, created_at AS t, coalesce(amount, 0.0) AS value,
           lag(created_at) OVER (PARTITION BY account_id
                                 ORDER BY created_at, opportunity_id) AS prev_t
    FROM opportunities
    WHERE created_at <= $end
),
conv AS (
    SELECT e.opportunity_id, any_value(e.value) AS value,
           string_agg(tp.channel, ' > ' ORDER BY tp.timestamp, tp.touchpoint_id) AS path
    FROM ev e
    JOIN touchpoints tp
      ON tp.account_id = e.account_id
     AND tp.timestamp <= e.t
     AND tp.timestamp >= e.t - to_microseconds($lookback_us)
     AND (e.prev_t IS NULL OR tp.timestamp > e.prev_t)
    GROUP BY e.opportunity_id
),
last_ev AS (SELECT account_id, max(t) AS last_t FROM ev GROUP BY account_id),
tail AS (
    SELECT tp.account_id,
           string_agg(tp.channel, ' > ' ORDER BY tp.timestamp, tp.touchpoint_id) AS path
    FROM touchpoints tp
    LEFT JOIN last_ev l ON tp.account_id = l.account_id
    WHERE tp.timestamp <= $end
      AND tp.timestamp >= $end - to_microseconds($lookback_us)
      AND (l.last_t IS NULL OR tp.timestamp > l.last_t)
    GROUP BY tp.account_id
),
j AS (
    SELECT path, 1 AS c, value AS v FROM conv
    UNION ALL
    SELECT path, 0 AS c, 0.0 AS v FROM tail
)
SELECT path,
       sum(c)::BIGINT AS total_conversions,
       (count(*) - sum(c))::BIGINT AS total_null,
       sum(v)::DOUBLE AS total_conversion_value
FROM j
GROUP BY path
"""


def run_duckdb(data: Path, end: pd.Timestamp) -> pd.DataFrame:
    con = _STATE["con"]
    params = {"end": end.to_pydatetime(), "lookback_us": LOOKBACK_DAYS * 86_400 * 10**6}
    return con.sql(DUCKDB_SQL, params=params).to_arrow_table().to_pandas()


def run_duckdb_ts(data: Path, end: pd.Timestamp) -> pd.DataFrame:
    """DuckDB ordering by timestamp only (no touchpoint_id tie-break): a lower
    bound of the SQL cost; equal to the others only when no touches tie."""
    con = _STATE["con"]
    params = {"end": end.to_pydatetime(), "lookback_us": LOOKBACK_DAYS * 86_400 * 10**6}
    sql = DUCKDB_SQL.replace(", tp.touchpoint_id", "")
    return con.sql(sql, params=params).to_arrow_table().to_pandas()


def run_pandas(data: Path, end: pd.Timestamp) -> pd.DataFrame:
    """Plain pandas: merge_asof to the next opportunity, groupby-join strings."""
    tp, opp = _STATE["tp"], _STATE["opp"]
    lookback = pd.Timedelta(days=LOOKBACK_DAYS)
    ev = opp.loc[opp["created_at"] <= end, ["opportunity_id", "account_id", "created_at", "amount"]]
    ev = ev.sort_values(["created_at", "opportunity_id"])
    t = tp[["touchpoint_id", "account_id", "timestamp", "channel"]].sort_values("timestamp")
    m = pd.merge_asof(
        t, ev, left_on="timestamp", right_on="created_at", by="account_id",
        direction="forward", allow_exact_matches=True,
    )
    conv = m["created_at"].notna() & (m["timestamp"] >= m["created_at"] - lookback)
    tail = m["created_at"].isna() & (m["timestamp"] <= end) & (m["timestamp"] >= end - lookback)
    m = m[conv | tail].copy()
    m["journey"] = m["opportunity_id"].fillna("tail:" + m["account_id"])
    m = m.sort_values(["account_id", "timestamp", "touchpoint_id"])
    j = m.groupby("journey", sort=False).agg(
        path=("channel", " > ".join), conv=("created_at", "count"), value=("amount", "first")
    )
    j["conv"] = (j["conv"] > 0).astype(np.int64)
    j["value"] = j["value"].fillna(0.0) * j["conv"]
    out = j.groupby("path").agg(
        total_conversions=("conv", "sum"), n=("conv", "size"), total_conversion_value=("value", "sum")
    )
    out["total_null"] = out.pop("n") - out["total_conversions"]
    return out.reset_index()[["path", "total_conversions", "total_null", "total_conversion_value"]]


ENGINES = {
    "ours": run_ours,
    "duckdb": run_duckdb,
    "duckdb-ts": run_duckdb_ts,
    "pandas": run_pandas,
}
_STATE: dict[str, object] = {}


def _prepare(engine: str, data: Path) -> None:
    if engine.startswith("duckdb"):
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        for name in ("touchpoints", "opportunities"):
            con.execute(
                f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)",
                [str(data / f"{name}.parquet")],
            )
        _STATE["con"] = con
    else:
        if engine == "ours":
            import features.journeys  # noqa: F401  (import time is not build time)
        _STATE["tp"] = pd.read_parquet(data / "touchpoints.parquet")
        _STATE["opp"] = pd.read_parquet(data / "opportunities.parquet")


# ------------------------------------------------------------------ memory


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakSampler:
    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> "_PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def worker(engine: str, data: Path, repeats: int, end: str) -> None:
    """Subprocess body: time one engine, write its table and a JSON report."""
    end_ts = pd.Timestamp(end)
    _prepare(engine, data)
    run = ENGINES[engine]
    try:
        base = _rss_bytes()
    except OSError:  # not Linux: ru_maxrss only
        base = 0
    times, peak = [], 0
    out = None
    for _ in range(repeats):
        del out
        with _PeakSampler() as sampler:
            t0 = time.perf_counter()
            out = run(data, end_ts)
            times.append(time.perf_counter() - t0)
        peak = max(peak, sampler.peak)
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.to_parquet(data / f"result_{engine}.parquet")
    report = {
        "engine": engine,
        "times": times,
        "median": statistics.median(times),
        "peak_added_mb": (peak - base) / 2**20 if base else float("nan"),
        "maxrss_mb": maxrss_kb / 1024,
        "paths": len(out),
    }
    (data / f"report_{engine}.json").write_text(json.dumps(report))


# ------------------------------------------------------------------ parent


def _canonical(table: pd.DataFrame) -> pd.DataFrame:
    t = table[["path", "total_conversions", "total_null", "total_conversion_value"]].copy()
    t["path"] = t["path"].astype(str)
    t["total_conversions"] = t["total_conversions"].astype(np.int64)
    t["total_null"] = t["total_null"].astype(np.int64)
    return t.sort_values("path").reset_index(drop=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> str:
    if len(a) != len(b):
        return f"different number of paths ({len(a)} vs {len(b)})"
    if not (a["path"].to_numpy() == b["path"].to_numpy()).all():
        return "different paths"
    for c in ("total_conversions", "total_null"):
        if not np.array_equal(a[c].to_numpy(), b[c].to_numpy()):
            return f"different {c}"
    if not np.allclose(a["total_conversion_value"], b["total_conversion_value"], rtol=1e-6, atol=1e-6):
        return "different total_conversion_value"
    return "identical"


def main(argv: list[str] | None = None) -> int:
    try:
        import features.synthetic  # noqa: F401

        default_source = "generator"
    except ImportError:
        default_source = "random"
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, default=20_000)
    p.add_argument("--touches-per-account", type=int, default=500)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--source", choices=("random", "generator"), default=default_source)
    p.add_argument("--engines", default="ours,duckdb",
                   help="comma-separated subset of ours,duckdb,duckdb-ts,pandas (pandas is slow: "
                   "about a minute per repeat at 10M touches)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--end", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, Path(args.data), args.repeats, args.end)
        return 0

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="bench_path_table_"))
    try:
        t0 = time.perf_counter()
        if args.source == "generator":
            tables = generator_tables(args.accounts, seed=args.seed)
        else:
            tables = random_tables(args.accounts, args.touches_per_account, seed=args.seed)
        tp, opp = tables["touchpoints"], tables["opportunities"]
        end = max(pc.max(tp["timestamp"]).as_py(), pc.max(opp["created_at"]).as_py())
        end = pd.Timestamp(end).tz_convert("UTC")
        for name, table in tables.items():
            pq.write_table(table, tmp / f"{name}.parquet")
        print(
            f"data ({args.source}): {tp.num_rows:,} touchpoints, {opp.num_rows:,} "
            f"opportunities, {args.accounts:,} accounts, "
            f"{len(pc.unique(tp['channel'])):,} channels; built in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        del tables, tp, opp
        reports = {}
        for engine in engines:
            cmd = [
                sys.executable, __file__, "--worker", engine, "--data", str(tmp),
                "--repeats", str(args.repeats), "--end", end.isoformat(),
            ]
            subprocess.run(cmd, check=True)
            reports[engine] = json.loads((tmp / f"report_{engine}.json").read_text())
            r = reports[engine]
            print(f"  {engine}: {', '.join(f'{t:.2f}' for t in r['times'])} s", flush=True)
        ref = "ours" if "ours" in reports else engines[0]
        ref_table = _canonical(pd.read_parquet(tmp / f"result_{ref}.parquet"))
        print()
        print("| engine | median s | min s | peak added MB | process max RSS MB | paths | ratio vs ours (median) | same table as ours |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for engine, r in reports.items():
            same = "-" if engine == ref else _same(
                ref_table, _canonical(pd.read_parquet(tmp / f"result_{engine}.parquet"))
            )
            ratio = r["median"] / reports[ref]["median"]
            print(
                f"| {engine} | {r['median']:.2f} | {min(r['times']):.2f} | {r['peak_added_mb']:.0f} | "
                f"{r['maxrss_mb']:.0f} | {r['paths']:,} | {ratio:.2f} | {same} |"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
