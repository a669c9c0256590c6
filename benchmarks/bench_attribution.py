"""Speed and memory of the attribution models, next to ChannelAttribution.

Usage::

    python benchmarks/bench_attribution.py [--repeats 3] [--journeys 1000000] [--quick]

Builds two seeded path tables (1M journeys over 12 channels, ~230k distinct
paths; 100k journeys over 20 channels), then times each call from the
already loaded DataFrame to the result (median of ``--repeats``), each
(library, task) in a forked child process so that its peak resident memory
is its own. ChannelAttribution (``heuristic_models``, ``markov_model`` order 1
and 3 with default settings) is timed in the same run when it is installed;
it is a benchmark-only peer, never a dependency. Also reports our
200-replicate bootstrap of order-1 Markov on 1M journeys and the total
variation distance between our exact removal-effect shares and
ChannelAttribution's simulated ones. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import pickle
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attribution import MarkovAttribution, attribute  # noqa: E402
from attribution._encoding import sequence_ids  # noqa: E402

HEURISTICS = ["first_touch", "last_touch", "linear"]


def make_path_table(n_journeys: int, n_channels: int, *, mean_length: float = 5.0, skew: float = 1.85, seed: int = 0):
    """Seeded synthetic journeys aggregated to a path table.

    Path lengths are geometric (mean ``mean_length``), channels drawn with
    Zipf-like popularity ``1 / rank**skew``; conversion is logistic in the
    sum of per-channel effects (scaled by 1/sqrt(length)); value is
    log-normal. Aggregation to distinct paths is exact (sequence ids).
    """
    rng = np.random.default_rng(seed)
    names = np.array([f"channel_{i:02d}" for i in range(n_channels)], dtype=object)
    popularity = 1.0 / np.arange(1, n_channels + 1) ** skew
    popularity /= popularity.sum()
    lengths = rng.geometric(1.0 / mean_length, size=n_journeys)
    offsets = np.zeros(n_journeys + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    codes = rng.choice(n_channels, size=int(offsets[-1]), p=popularity).astype(np.int32)
    effect = rng.normal(0.0, 0.6, n_channels)
    score = np.add.reduceat(effect[codes], offsets[:-1]) / np.sqrt(lengths) - 2.5
    converted = rng.random(n_journeys) < 1.0 / (1.0 + np.exp(-score))
    value = np.where(converted, rng.lognormal(8.0, 1.0, n_journeys), 0.0)
    ids = sequence_ids(offsets, codes, n_channels)  # first-appearance order
    n_paths = int(ids.max()) + 1
    first = np.full(n_paths, n_journeys, dtype=np.int64)
    np.minimum.at(first, ids, np.arange(n_journeys))
    paths = [" > ".join(names[codes[offsets[i] : offsets[i + 1]]]) for i in first]
    return pd.DataFrame(
        {
            "path": pd.Series(paths, dtype="str"),
            "total_conversions": np.bincount(ids, converted, n_paths),
            "total_null": np.bincount(ids, ~converted, n_paths),
            "total_conversion_value": np.bincount(ids, value, n_paths),
        }
    )


def in_child(fn, repeats: int, warmup: bool = True):
    """Run ``fn`` ``repeats`` times in a forked child: (median s, all s, peak RSS MB, last output).

    One untimed warm-up call first (both libraries alike): it pays the
    child's copy-on-write page faults and thread-pool start-up after fork.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        try:
            times, out = [], None
            if warmup:
                fn()
            for _ in range(repeats):
                start = time.perf_counter()
                out = fn()
                times.append(time.perf_counter() - start)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            payload = pickle.dumps((times, peak, out, None))
        except BaseException as exc:  # report, never hang the parent
            payload = pickle.dumps((None, None, None, repr(exc)))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    times, peak, out, error = pickle.loads(data)
    if error:
        raise RuntimeError(error)
    return statistics.median(times), times, peak, out


def load_channelattribution():
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner on import
            import ChannelAttribution as ca
    except ImportError:
        return None
    return ca


def quiet(fn):
    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            return fn()

    return run


def shares_ours(result: pd.DataFrame) -> pd.Series:
    return result.set_index("channel")["share"].sort_index()


def shares_ca(frame: pd.DataFrame, column: str = "total_conversions") -> pd.Series:
    s = frame.set_index("channel_name")[column].sort_index()
    return s / s.sum()


def total_variation(a: pd.Series, b: pd.Series) -> float:
    a, b = a.align(b, fill_value=0.0)
    return 0.5 * float(np.abs(a - b).sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="skip the 20-channel table")
    args = parser.parse_args(argv)

    ca = load_channelattribution()
    tables = {
        f"{args.journeys // 1000}k journeys, 12 channels": make_path_table(args.journeys, 12, seed=0),
    }
    if not args.quick:
        tables["100k journeys, 20 channels"] = make_path_table(100_000, 20, seed=1)

    rows = []
    for label, df in tables.items():
        print(f"# {label}: {len(df):,} distinct paths, {int(df.total_conversions.sum()):,} conversions", file=sys.stderr)
        cols = dict(var_value="total_conversion_value")
        tasks = [
            ("heuristics (first, last, linear)", lambda df=df: attribute(df, HEURISTICS),
             (lambda df=df: ca.heuristic_models(df, "path", "total_conversions", flg_pro=False, **cols)) if ca else None),
        ]
        for order in (1, 3):
            tasks.append((
                f"markov order {order}",
                lambda df=df, order=order: MarkovAttribution(order=order).fit(df).result_,
                (lambda df=df, order=order: ca.markov_model(
                    df, "path", "total_conversions", var_null="total_null", order=order,
                    verbose=False, flg_pro=False, **cols)) if ca else None,
            ))
        for task, ours, theirs in tasks:
            t_ours, _, mem_ours, res_ours = in_child(ours, args.repeats)
            row = {"table": label, "task": task, "ours_s": t_ours, "ours_peak_mb": mem_ours}
            if theirs is not None:
                t_ca, _, mem_ca, res_ca = in_child(quiet(theirs), args.repeats)
                row.update(ca_s=t_ca, ca_peak_mb=mem_ca, speedup=t_ca / t_ours)
                if task.startswith("heuristics"):
                    tvs = []
                    for name, col in (("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")):
                        mine = shares_ours(res_ours[res_ours["model"] == name])
                        tvs.append(total_variation(mine, shares_ca(res_ca, f"{col}_conversions")))
                    row["tv_vs_ca"] = max(tvs)
                else:
                    frame = res_ca["result"] if isinstance(res_ca, dict) else res_ca
                    row["tv_vs_ca"] = total_variation(shares_ours(res_ours), shares_ca(frame))
            rows.append(row)
            print(f"  {task}: ours {t_ours:.3f}s" + (f", CA {row['ca_s']:.3f}s" if "ca_s" in row else ""), file=sys.stderr)
        if label.startswith(f"{args.journeys // 1000}k"):
            boot = lambda df=df: MarkovAttribution(order=1, ci=0.95, n_boot=args.n_boot, random_state=0).fit(df).result_
            t_boot, _, mem_boot, _ = in_child(boot, 1, warmup=False)
            rows.append({"table": label, "task": f"markov order 1 + {args.n_boot}-replicate bootstrap",
                         "ours_s": t_boot, "ours_peak_mb": mem_boot})
            print(f"  bootstrap: {t_boot:.1f}s", file=sys.stderr)

    print("| table | task | ours (s) | ChannelAttribution (s) | speed-up | TV distance of shares | peak RSS ours / CA (MB) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        ca_s = f"{r['ca_s']:.3f}" if "ca_s" in r else "n/a"
        speed = f"{r['speedup']:.1f}x" if "speedup" in r else ""
        tv = f"{r['tv_vs_ca']:.4f}" if "tv_vs_ca" in r else ""
        mem = f"{r['ours_peak_mb']:.0f}" + (f" / {r['ca_peak_mb']:.0f}" if "ca_peak_mb" in r else "")
        print(f"| {r['table']} | {r['task']} | {r['ours_s']:.3f} | {ca_s} | {speed} | {tv} | {mem} |")
    if ca is None:
        print("\nChannelAttribution is not installed: peer columns are n/a (pip install ChannelAttribution==2.2.5).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
