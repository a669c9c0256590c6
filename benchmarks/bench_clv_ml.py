"""Benchmark: ML CLV against the probabilistic models, and the ABM CLV effects.

On synthetic data (``features.synthetic.generate_dataset``, a three-year window
2023-01-01 .. 2025-12-31 so that contracts are seen through two renewals), for
each ``--sizes`` value:

1. :func:`models.clv.clv_holdout_predictions` with cut-off ``--cutoff``
   (default 2025-06-30) and a ``--holdout-months`` holdout (default 6), for
   revenue = bookings (won deal amounts) and billings (contract payments):
   MAE, RMSE, top-decile capture and precision of BG/NBD + Gamma-Gamma,
   Pareto/NBD + Gamma-Gamma, XGBoost (squared error; and Tweedie for
   bookings) and the naive last-period baseline, the top SHAP features, and
   the time of each step;
2. :func:`models.clv.abm_clv_effects` with ``--n-boot`` replicates: naive and
   adjusted ratios per tier next to the generator's planted multipliers.

Prints Markdown tables (the figures in benchmarks/RESULTS.md).

Usage::

    python benchmarks/bench_clv_ml.py
    python benchmarks/bench_clv_ml.py --sizes 2000 --n-boot 50
"""

from __future__ import annotations

import argparse
import logging
import resource
import time
import warnings

import numpy as np
import pandas as pd

from features.synthetic import generate_dataset
from models.clv import MLCLVModel, abm_clv_effects, clv_holdout_predictions, clv_metrics

START, END = "2023-01-01", "2025-12-31"


def _md(frame: pd.DataFrame, floatfmt: dict[str, str] | None = None) -> str:
    floatfmt = floatfmt or {}
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, (float, np.floating)):
                cells.append(format(v, floatfmt.get(c, ",.3f")))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(n: int, args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    ds = generate_dataset(n, seed=args.seed, start=START, end=END)
    t_gen = time.perf_counter() - t0
    print(f"\n### {n:,} accounts (seed {args.seed}; {len(ds.tables['touchpoints']):,} touchpoints, "
          f"{int(ds.tables['opportunities']['is_won'].sum()):,} won deals, {len(ds.tables['contracts']):,} contracts; "
          f"generated in {t_gen:.1f} s)\n")
    metrics, timings, shap_top = [], [], None
    for revenue in ("bookings", "billings"):
        t0 = time.perf_counter()
        h = clv_holdout_predictions(ds.tables, args.cutoff, args.holdout_months, revenue=revenue,
                                    model=MLCLVModel(random_state=args.seed))
        total = time.perf_counter() - t0
        preds = h.predictions.copy()
        t_tw = np.nan
        if revenue == "bookings":
            shap_top = h.model.shap_importance_.head(10)
            t1 = time.perf_counter()
            tw = clv_holdout_predictions(ds.tables, args.cutoff, args.holdout_months, revenue=revenue,
                                         model=MLCLVModel(objective="reg:tweedie", random_state=args.seed))
            t_tw = time.perf_counter() - t1
            preds["XGBoost (Tweedie)"] = tw.predictions["XGBoost"]
        m = clv_metrics(h.actual, preds)
        m.insert(0, "revenue", revenue)
        m["accounts_with_revenue"] = int((h.actual > 0).sum())
        metrics.append(m)
        timings.append({"revenue": revenue, **{k: v for k, v in h.timings.items()}, "total_s": total,
                        "tweedie_run_s": t_tw})
    table = pd.concat(metrics, ignore_index=True)
    print(f"CLV holdout comparison: cut-off {args.cutoff}, holdout {args.holdout_months} months\n")
    print(_md(table[["revenue", "model", "mae", "rmse", "top_decile_capture", "top_decile_precision",
                     "total_predicted", "total_actual"]],
              {"mae": ",.0f", "rmse": ",.0f", "total_predicted": ",.0f", "total_actual": ",.0f"}))
    print("\nTimings (s)\n")
    print(_md(pd.DataFrame(timings), {k: ".2f" for k in ("features", "probabilistic", "xgboost_fit", "total_s",
                                                         "tweedie_run_s")}))
    print("\nTop SHAP features (bookings, XGBoost squared error; mean |SHAP| over training rows)\n")
    print(_md(shap_top, {"mean_abs_shap": ",.0f", "share": ".3f"}))

    t0 = time.perf_counter()
    eff = abm_clv_effects(ds.tables, n_boot=args.n_boot, random_state=args.seed)
    t_abm = time.perf_counter() - t0
    gt = ds.ground_truth["abm_effects"]
    key = {"deal_size": "deal_size_multiplier", "first_year_churn": "churn_multiplier"}
    eff["planted"] = [gt[t][key[m]] if m in key else np.nan for t, m in zip(eff["tier"], eff["metric"])]
    eff["ratio_95ci"] = [f"[{lo:.2f}, {hi:.2f}]" for lo, hi in zip(eff["ratio_ci_low"], eff["ratio_ci_high"])]
    print(f"\nABM vs non-ABM (abm_clv_effects, {args.n_boot} bootstrap replicates, {t_abm:.1f} s)\n")
    print(_md(eff[["tier", "metric", "estimator", "abm_value", "non_abm_value", "ratio", "ratio_95ci", "planted",
                   "non_abm_effective_n"]],
              {"abm_value": ",.3f", "non_abm_value": ",.3f", "ratio": ".3f", "planted": ".2f",
               "non_abm_effective_n": ",.0f"}))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS so far: {peak:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cutoff", default="2025-06-30")
    parser.add_argument("--holdout-months", type=int, default=6)
    parser.add_argument("--n-boot", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")  # the script owns its terminal; convergence notes are in RESULTS.md
    for n in args.sizes:
        run(n, args)


if __name__ == "__main__":
    main()
