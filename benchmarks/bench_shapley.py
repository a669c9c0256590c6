"""Benchmark of the Shapley family (``attribution/_shapley.py``).

Seeded synthetic data: 100,000 journeys over 20 channels, one path-table row
per journey. Times the median of 3 runs of ``shapley_rate`` (exact journey
game on the data and on its worst case, where one journey touches every
channel; its Monte Carlo estimate; the closed-form global game),
``simplified_shapley`` and
``ordered_shapley``, with the peak of memory traced during one run (numpy
reports its buffers to :mod:`tracemalloc`). Targets: exact ``shapley_rate``
under 2 s, peak memory under 2 GB.

If the ``mta`` package is importable (benchmark-only peer, never a runtime
dependency: ``pip install mta``), its ``MTA.shapley`` (the simplified game,
computed by enumerating coalitions) is timed on the same data in a
subprocess killed after 300 s, and checked against ``simplified_shapley`` on a
small table where it can finish.

Run: ``python benchmarks/bench_shapley.py [--journeys N] [--channels K]
[--mta-timeout S]``. Prints a Markdown table.

Latest results (2 shared cores, numpy 2.4; timings vary with the load of the
machine, an earlier run measured 0.18 s for the first row):

| function | median of 3 (s) | peak traced memory (MB) |
| --- | ---: | ---: |
| shapley_rate exact (journey game) | 0.420 | 108 |
| shapley_rate exact (journey game), one journey touches all channels | 0.378 | 178 |
| shapley_rate Monte Carlo (journey game, 2,000 permutations) | 12.375 | 104 |
| shapley_rate exact (global game, raw phi) | 0.018 | 8 |
| simplified_shapley | 0.016 | 8 |
| ordered_shapley | 0.030 | 10 |
| mta.MTA.shapley (peer, subprocess) | did not finish in 300 s | |

100,000 journeys -> 56,147 encoded paths, 16,047 distinct channel sets (6,928
converting). Peak resident memory of the whole benchmark process: 430 MB.
Parity on 2,000 journeys x 6 channels: ``mta``'s ``shapley(normalize=False)``
equals ``simplified_shapley`` to 7e-15.
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from attribution._encoding import encode_paths  # noqa: E402
from attribution._shapley import (  # noqa: E402
    _channel_sets,
    _global_phi,
    _rates,
    ordered_shapley,
    shapley_rate,
    simplified_shapley,
)


def make_journeys(n_journeys: int, n_channels: int, seed: int = 20240607) -> pd.DataFrame:
    """Path table with one row per synthetic journey.

    Channel popularity is Zipf-like, lengths are 1 + Poisson(3) capped at 12,
    the conversion probability is logistic in the distinct channels touched,
    and a converting journey carries a log-normal deal value.
    """
    rng = np.random.default_rng(seed)
    names = np.array([f"ch{k:02d}" for k in range(n_channels)], dtype=object)
    popularity = 1.0 / np.arange(1, n_channels + 1) ** 0.8
    popularity /= popularity.sum()
    effect = rng.normal(0.0, 0.6, n_channels)
    lengths = np.minimum(1 + rng.poisson(3.0, n_journeys), 12)
    codes = rng.choice(n_channels, size=int(lengths.sum()), p=popularity)
    pid = np.repeat(np.arange(n_journeys), lengths)
    touched = np.zeros((n_journeys, n_channels), dtype=bool)
    touched[pid, codes] = True
    logit = -2.0 + touched @ effect + 0.15 * touched.sum(axis=1)
    converted = rng.random(n_journeys) < 1.0 / (1.0 + np.exp(-logit))
    value = np.where(converted, rng.lognormal(9.0, 1.0, n_journeys), 0.0)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = names[codes]
    paths = [" > ".join(flat[offsets[i] : offsets[i + 1]]) for i in range(n_journeys)]
    return pd.DataFrame(
        {
            "path": paths,
            "total_conversions": converted.astype(np.float64),
            "total_null": (~converted).astype(np.float64),
            "total_conversion_value": value,
        }
    )


def _timed(fn, repeats: int = 3) -> tuple[float, float]:
    """(median seconds over ``repeats`` runs, peak traced MB of one extra run)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


_MTA_SCRIPT = """
import pickle, sys, time
from mta import MTA
table = pickle.load(open(sys.argv[1], "rb"))
model = MTA(data=table, add_timepoints=False, allow_loops=True)
t0 = time.perf_counter()
model.shapley(normalize=False)
elapsed = time.perf_counter() - t0
pickle.dump((elapsed, dict(model.attribution["shapley"])), open(sys.argv[2], "wb"))
"""


def _run_mta(table: pd.DataFrame, timeout: float) -> tuple[float | None, dict | None]:
    """Time ``mta``'s Shapley in a subprocess; (None, None) if it did not finish."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "table.pkl", Path(tmp) / "out.pkl"
        with open(src, "wb") as fh:
            pickle.dump(table, fh)
        try:
            subprocess.run(
                [sys.executable, "-c", _MTA_SCRIPT, str(src), str(dst)],
                check=True,
                timeout=timeout,
                capture_output=True,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            return None, None
        with open(dst, "rb") as fh:
            return pickle.load(fh)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--mta-timeout", type=float, default=300.0)
    args = parser.parse_args(argv)

    table = make_journeys(args.journeys, args.channels)
    t0 = time.perf_counter()
    enc = encode_paths(table)
    encode_s = time.perf_counter() - t0
    conv, _ = simplified_shapley(enc)
    sets = _channel_sets(enc, enc.conversions, enc.nulls, enc.values)
    n_sets = len(sets.keys)
    n_conv_sets = int((sets.conversions > 0).sum())

    # Worst case for the exact method: one converting journey touches every channel,
    # so the quadrature needs ceil(K / 2) nodes (10 at K = 20) instead of ceil(max|J| / 2).
    everything = pd.DataFrame(
        {
            "path": [" > ".join(enc.channels)],
            "total_conversions": [1.0],
            "total_null": [1.0],
            "total_conversion_value": [1000.0],
        }
    )
    enc_full = encode_paths(pd.concat([table, everything], ignore_index=True))

    rows = []
    for label, fn in (
        ("shapley_rate exact (journey game)", lambda: shapley_rate(enc)),
        (
            "shapley_rate exact (journey game), one journey touches all channels",
            lambda: shapley_rate(enc_full),
        ),
        (
            "shapley_rate Monte Carlo (journey game, 2,000 permutations)",
            lambda: shapley_rate(enc, max_exact_channels=1, random_state=0),
        ),
        ("shapley_rate exact (global game, raw phi)", lambda: _global_raw(enc)),
        ("simplified_shapley", lambda: simplified_shapley(enc)),
        ("ordered_shapley", lambda: ordered_shapley(enc)),
    ):
        seconds, peak_mb = _timed(fn)
        rows.append((label, f"{seconds:.3f}", f"{peak_mb:,.0f}"))

    mta_note = "not installed (benchmark-only: `pip install mta`)"
    parity = ""
    if importlib.util.find_spec("mta") is not None:
        elapsed, _ = _run_mta(table, args.mta_timeout)
        mta_note = (
            f"did not finish in {args.mta_timeout:.0f} s"
            if elapsed is None
            else f"{elapsed:.3f}"
        )
        small = make_journeys(2_000, 6, seed=7)
        small_elapsed, small_credit = _run_mta(small, args.mta_timeout)
        if small_credit is not None:
            small_enc = encode_paths(small)
            ours, _ = simplified_shapley(small_enc)
            theirs = np.array([small_credit[c] for c in small_enc.channels])
            parity = (
                f"\nParity on 2,000 journeys x 6 channels: mta.shapley(normalize=False) vs "
                f"simplified_shapley, max |diff| = {np.abs(ours - theirs).max():.2e} "
                f"(mta {small_elapsed:.3f} s)."
            )
    rows.append(("mta.MTA.shapley (peer, subprocess)", mta_note, ""))

    print(
        f"Shapley benchmark: {args.journeys:,} journeys, {enc.n_channels} channels, "
        f"{enc.n_paths:,} encoded paths, {n_sets:,} distinct channel sets "
        f"({n_conv_sets:,} converting), {conv.sum():,.0f} conversions; "
        f"encode_paths {encode_s:.2f} s.\n"
    )
    print("| function | median of 3 (s) | peak traced memory (MB) |")
    print("| --- | ---: | ---: |")
    for label, seconds, peak in rows:
        print(f"| {label} | {seconds} | {peak} |")
    print(parity)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak resident memory of the benchmark process: {peak_rss:,.0f} MB.")
    return 0


def _global_raw(enc):
    """Closed-form global-game Shapley values (unscaled: v(N) is 0 on this data)."""
    sets = _channel_sets(enc, enc.conversions, enc.nulls, enc.values)
    return _global_phi(sets, _rates(sets, "bench"))


if __name__ == "__main__":
    raise SystemExit(main())
