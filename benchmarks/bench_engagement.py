"""Benchmark and acceptance figures of ``models.engagement``.

Generates a synthetic world (``features.synthetic.generate_dataset``), fits
:class:`~models.engagement.EngagementWeightModel` on a year of weekly as-of
dates (median fit time over ``--repeats``, peak RSS), then fits the XGBoost
challenger, the hand-set baseline and the oracle and backtests all four on a
later quarter of weekly as-of dates. Prints one table; the figures go to
``benchmarks/RESULTS.md`` (section "Engagement score (issue 4)").

Usage::

    python benchmarks/bench_engagement.py --accounts 20000 --repeats 1
    python benchmarks/bench_engagement.py --accounts 2000 --repeats 3 --no-challengers
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from features.synthetic import generate_dataset
from models.engagement import (
    EngagementWeightModel,
    HandSetBaseline,
    OracleModel,
    XGBEngagementModel,
    backtest,
)

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline_engagement_weights.yaml"


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--fit-start", default="2024-04-01")
    ap.add_argument("--fit-end", default="2025-03-31")
    ap.add_argument("--test-start", default="2025-06-30")
    ap.add_argument("--test-end", default="2025-09-29")
    ap.add_argument("--no-challengers", action="store_true",
                    help="time the learned model only (no XGBoost, baseline, oracle)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    ds = generate_dataset(args.accounts, seed=args.seed)
    gen_s = time.perf_counter() - t0
    fit_dates = pd.date_range(args.fit_start, args.fit_end, freq="7D")
    test_dates = pd.date_range(args.test_start, args.test_end, freq="7D")
    print(f"generated {args.accounts:,} accounts, {len(ds.tables['touchpoints']):,} touches "
          f"in {gen_s:.1f}s; fit dates {len(fit_dates)}, test dates {len(test_dates)}",
          flush=True)

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        model = EngagementWeightModel(random_state=0).fit(ds.tables, fit_dates)
        times.append(time.perf_counter() - t0)
    gt = ds.ground_truth
    w = model.weights_.set_index("signal")["coefficient"]
    rho = spearmanr([gt["signal_weights"][s] for s in w.index], w.to_numpy()).statistic
    print(f"EngagementWeightModel.fit median {statistics.median(times):.1f}s "
          f"(runs: {', '.join(f'{t:.1f}' for t in times)}); peak RSS {_peak_rss_gib():.2f} GiB")
    print(f"half-life chosen {model.half_life_:g} days; Spearman(learned, planted) = {rho:.3f}")
    planted = pd.Series(gt["signal_weights"])
    table = model.weights_.assign(planted=model.weights_["signal"].map(planted))
    print(table[["signal", "channel", "coefficient", "planted", "points"]].round(3).to_string())
    planted_mult = {**{("role", k): v for k, v in gt["role_multipliers"].items()},
                    **{("seniority", k): v for k, v in gt["seniority_multipliers"].items()}}
    mult = model.multiplier_intervals_.assign(
        planted=[planted_mult[(k, lv)] for k, lv in zip(model.multiplier_intervals_["kind"],
                                                         model.multiplier_intervals_["level"])]
    )
    inside = (mult["planted"] >= mult["ci_lower"]) & (mult["planted"] <= mult["ci_upper"])
    print(mult.round(3).to_string(index=False))
    print(f"multipliers: {int(inside.sum())}/{len(mult)} planted values inside the 95% intervals, "
          f"mean |log(learned / planted)| {np.abs(np.log(mult['multiplier'] / mult['planted'])).mean():.3f}")
    print("tier odds multipliers:", model.tier_multipliers_.round(2).to_dict())

    models = {"learned": model}
    if not args.no_challengers:
        t0 = time.perf_counter()
        models["xgboost"] = XGBEngagementModel(random_state=0).fit(ds.tables, fit_dates)
        print(f"XGBEngagementModel.fit {time.perf_counter() - t0:.1f}s")
        print(models["xgboost"].shap_importance_.head(10).round(4).to_string())
        models["baseline"] = HandSetBaseline.from_yaml(BASELINE).fit(ds.tables, fit_dates)
        models["oracle"] = OracleModel.from_ground_truth(gt).fit(ds.tables, fit_dates)
    metrics, cal = backtest(models, ds.tables, test_dates, return_calibration=True)
    print(metrics.round(4).to_string(index=False))
    print(cal.round(4).to_string(index=False))
    print(f"peak RSS {_peak_rss_gib():.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
