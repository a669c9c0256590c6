"""Benchmark of ``features.signals.build_signal_panel``.

Random tables of the contract's shape (string ids, ``str`` columns, UTC
timestamps, ~25% anonymous touches), two years of touches, and a weekly as-of
schedule over the last year. Times ``build_signal_panel`` (median of
``--repeats``) and reports peak RSS.

Usage::

    python benchmarks/bench_signals.py                       # 20,000 x 500 = 10M touches, 52 weeks
    python benchmarks/bench_signals.py --accounts 2000 --repeats 3

Latest results (2 cores shared with other jobs, numpy 2.4, pandas 3.1,
``SignalConfig()`` defaults, 18 signals, 14 channels, 8 departments, 10
contacts per account; the output has 100 columns):

========  ==========  =====  =========  ============================  ==========
accounts  touches     dates  rows out   build_signal_panel (median)   peak RSS
========  ==========  =====  =========  ============================  ==========
2,000     1,000,000   52     104,000    0.7 s (quiet) / 1.4 s (busy)  0.55 GiB
20,000    10,000,000  52     1,040,000  10 s (quiet) / 20 s (busy)    3.1 GiB
========  ==========  =====  =========  ============================  ==========

"busy" = load average ~5 from other jobs. Of the ~10 s, about 7 s
is encoding the inputs (hashing 4 x 10M strings ~2.7 s, sorting by time
~1.7 s, skipped when already sorted) and ~3 s the rolling computation and the
1.04M x 100 output (800 MiB). Peak RSS includes the input tables (1.5 GiB).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.contracts import BUYING_ROLES, SENIORITIES
from features.signals import SignalConfig, build_signal_panel

N_SIGNALS, N_CHANNELS = 18, 14
DEPARTMENTS = (
    "finance",
    "it",
    "marketing",
    "sales",
    "operations",
    "hr",
    "legal",
    "engineering",
)
END = pd.Timestamp("2025-01-01", tz="UTC")


def _strings(values: list[str], codes: np.ndarray, null: np.ndarray | None = None) -> pd.Series:
    """A ``str`` column picking ``values[codes]`` (null where ``null``), built in Arrow."""
    picked = pc.take(pa.array(values), pa.array(codes, mask=null))
    return pd.Series(picked, dtype="str")


def make_tables(
    n_accounts: int, touches_per_account: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Random ``touchpoints``, ``contacts``, ``accounts`` of the contract's shape."""
    rng = np.random.default_rng(seed)
    account_ids = [f"acc{i:07d}" for i in range(n_accounts)]
    accounts = pd.DataFrame(
        {
            "account_id": pd.Series(account_ids, dtype="str"),
            "segment": "enterprise",
            "industry": "software",
            "region": "EMEA",
            "business_unit": "bu1",
            "abm_tier": "one_to_few",
            "annual_revenue": rng.lognormal(18, 1, n_accounts),
        }
    )
    per_account = 10
    n_contacts = n_accounts * per_account
    contact_ids = [f"con{i:08d}" for i in range(n_contacts)]
    contacts = pd.DataFrame(
        {
            "contact_id": pd.Series(contact_ids, dtype="str"),
            "account_id": _strings(account_ids, np.arange(n_contacts) // per_account),
            "buying_role": _strings(list(BUYING_ROLES), rng.integers(0, len(BUYING_ROLES), n_contacts)),
            "seniority": _strings(list(SENIORITIES), rng.integers(0, len(SENIORITIES), n_contacts)),
            "department": _strings(list(DEPARTMENTS), rng.integers(0, len(DEPARTMENTS), n_contacts)),
        }
    )
    n = n_accounts * touches_per_account
    # skewed activity: some accounts far more engaged than others
    activity = rng.pareto(1.5, n_accounts) + 0.1
    account = rng.choice(n_accounts, size=n, p=activity / activity.sum())
    anonymous = rng.random(n) < 0.25
    contact = account * per_account + rng.integers(0, per_account, n)
    signal = rng.integers(0, N_SIGNALS, n)
    span = 2 * 365 * 86_400 * 10**9
    stamps = END.value - rng.integers(0, span, n)
    signals = [f"signal_{i:02d}" for i in range(N_SIGNALS)]
    channels = [f"channel_{i:02d}" for i in range(N_CHANNELS)]
    touchpoints = pd.DataFrame(
        {
            "touchpoint_id": pd.Series(
                pc.binary_join_element_wise("tp", pc.cast(pa.array(np.arange(n)), pa.string()), ""),
                dtype="str",
            ),
            "account_id": _strings(account_ids, account),
            "contact_id": _strings(contact_ids, contact, null=anonymous),
            "timestamp": pd.Series(pd.DatetimeIndex(stamps.view("datetime64[ns]"), tz="UTC")),
            "channel": _strings(channels, signal % N_CHANNELS),
            "signal": _strings(signals, signal),
            "campaign_id": _strings([f"cmp{i}" for i in range(50)], rng.integers(0, 50, n)),
            "asset_id": _strings([f"ast{i}" for i in range(200)], rng.integers(0, 200, n)),
            "cost": rng.exponential(5.0, n),
        }
    )
    return touchpoints, contacts, accounts


def _rss_mib() -> float:
    """Current resident set size (Linux ``/proc``), NaN elsewhere."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--touches-per-account", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--half-life-days", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    touchpoints, contacts, accounts = make_tables(
        args.accounts, args.touches_per_account, args.seed
    )
    gen_s = time.perf_counter() - t0
    rss_data = _rss_mib()
    print(
        f"data: {len(accounts):,} accounts, {len(contacts):,} contacts, "
        f"{len(touchpoints):,} touches in {gen_s:.1f}s; RSS {rss_data:,.0f} MiB",
        flush=True,
    )
    dates = pd.date_range(end=END, periods=args.weeks, freq="7D")
    config = SignalConfig(half_life_days=args.half_life_days)

    times = []
    panel = None
    for r in range(args.repeats):
        panel = None
        gc.collect()
        t0 = time.perf_counter()
        panel = build_signal_panel(touchpoints, contacts, accounts, dates, config)
        times.append(time.perf_counter() - t0)
        print(f"  repeat {r + 1}: {times[-1]:.2f}s", flush=True)
    assert panel is not None
    out_mib = panel.memory_usage(deep=False).sum() / 2**20
    print(
        f"build_signal_panel: {len(accounts):,} accounts x {len(dates)} dates over "
        f"{len(touchpoints):,} touches -> {panel.shape[0]:,} rows x {panel.shape[1]} "
        f"columns ({out_mib:,.0f} MiB)\n"
        f"  median {statistics.median(times):.2f}s (min {min(times):.2f}s, "
        f"{args.repeats} repeats)\n"
        f"  peak RSS {_peak_rss_mib():,.0f} MiB (RSS with the input data alone "
        f"{rss_data:,.0f} MiB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
