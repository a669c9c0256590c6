"""Engagement score against the hand-set baseline across generator worlds.

For each world of ``features.synthetic.generate_dataset(world=...)`` this
generates a data set, fits :class:`~models.engagement.EngagementWeightModel`
(and optionally the XGBoost challenger) on a year of weekly as-of dates, fits
the references and backtests everything on a later quarter, as
``bench_engagement.py`` does. References:

``baseline``     ``configs/baseline_engagement_weights.yaml`` (unchanged)
``oracle``       the planted hazard logit of the world
``count``        one point per touch of any signal, 30-day half-life
``firmo_only``   the planted firmographic + tier part of the oracle, no signals
``baseline_fit`` a generous baseline: ``log1p`` of the hand-set points and the
                 planted firmographic + tier score combined by a two-feature
                 logistic regression on the fit dates (a team that also has a
                 perfect fit score and weighs the two optimally)

Prints one line per world: AUC of every model, Spearman(learned, planted) and
the three acceptance gaps of issue 4 (learned - oracle, learned - baseline,
oracle - baseline). Findings: ``benchmarks/RESULTS.md``, "Generator worlds and
the hand-set baseline".

Usage::

    python benchmarks/bench_engagement_worlds.py --accounts 6000
    python benchmarks/bench_engagement_worlds.py --accounts 20000 --worlds default noisy_research --xgb
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from features.synthetic import generate_dataset
from features.synthetic._params import SIGNAL_NAMES, WORLDS
from models.engagement import (
    EngagementWeightModel,
    HandSetBaseline,
    OracleModel,
    XGBEngagementModel,
    backtest,
)
from models.engagement import _data as D
from models.engagement._base import Calibrator
from models.engagement._logit import fit_logistic

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline_engagement_weights.yaml"


class PointsPlusFit:
    """``a log1p(points) + b fit_score``, the two weights by logistic regression."""

    def __init__(self, points, fit_score, horizon_days: float = 90) -> None:
        self.points, self.fit_score, self.horizon_days = points, fit_score, horizon_days

    def _features(self, enc, queries) -> np.ndarray:
        return np.stack([np.log1p(np.maximum(self.points.decision_panel(enc, queries), 0.0)),
                         self.fit_score.decision_panel(enc, queries)], axis=-1)

    def fit(self, tables, as_of_dates) -> PointsPlusFit:
        self.signals_ = self.points.signals_
        enc = D.encode(tables, "PointsPlusFit", signals=self.signals_)
        queries = D.dates_ns(as_of_dates, "PointsPlusFit")
        y, risk = D.labels_and_risk(enc, queries, self.horizon_days, "opportunity_created")
        X = self._features(enc, queries)[risk]
        self.coef_, self.intercept_ = fit_logistic(X, y[risk], C=1e6)
        self.calibrator_ = Calibrator("sigmoid").fit(X @ self.coef_, y[risk])
        return self

    def decision_panel(self, enc, queries) -> np.ndarray:
        return self._features(enc, queries) @ self.coef_


def run_world(world, args) -> dict:
    t0 = time.perf_counter()
    ds = generate_dataset(args.accounts, seed=args.seed, world=world)
    gen_s = time.perf_counter() - t0
    tables, gt = ds.tables, ds.ground_truth
    fit_dates = pd.date_range(args.fit_start, args.fit_end, freq="7D")
    test_dates = pd.date_range(args.test_start, args.test_end, freq="7D")
    touch = tables["touchpoints"]
    mix = touch["signal"].value_counts(normalize=True)
    models: dict = {}
    row: dict = {
        "spec": world if isinstance(world, str) else json.dumps(world, sort_keys=True),
        "touches_per_account": len(touch) / args.accounts,
        "opps_per_account": len(tables["opportunities"]) / args.accounts,
        "share_email_open": float(mix.get("email_open", 0.0)),
        "share_web_visit": float(mix.get("web_visit", 0.0)),
        "generate_s": gen_s,
    }
    if not args.no_learned:
        t0 = time.perf_counter()
        m = EngagementWeightModel(random_state=0).fit(tables, fit_dates)
        row["learned_fit_s"] = time.perf_counter() - t0
        w = m.weights_.set_index("signal")["coefficient"]
        row["spearman"] = float(
            spearmanr([gt["signal_weights"][s] for s in w.index], w.to_numpy()).statistic
        )
        row["half_life"] = m.half_life_
        models["learned"] = m
        if args.show_weights:
            planted = pd.Series(gt["signal_weights"])
            print(m.weights_.assign(planted=m.weights_["signal"].map(planted))[
                ["signal", "coefficient", "planted", "points"]].round(3).to_string())
    if args.xgb:
        t0 = time.perf_counter()
        models["xgboost"] = XGBEngagementModel(random_state=0).fit(tables, fit_dates)
        row["xgb_fit_s"] = time.perf_counter() - t0
    models["baseline"] = HandSetBaseline.from_yaml(BASELINE).fit(tables, fit_dates)
    models["oracle"] = OracleModel.from_ground_truth(gt).fit(tables, fit_dates)
    models["count"] = HandSetBaseline(
        points={s: 1.0 for s in SIGNAL_NAMES}, half_life_days=30.0
    ).fit(tables, fit_dates)
    models["firmo_only"] = OracleModel.from_ground_truth(
        gt, signal_weights={s: 0.0 for s in SIGNAL_NAMES}
    ).fit(tables, fit_dates)
    models["baseline_fit"] = PointsPlusFit(models["baseline"], models["firmo_only"]).fit(
        tables, fit_dates
    )
    metrics = backtest(models, tables, test_dates).set_index("model")
    row["base_rate"] = float(metrics["base_rate"].iloc[0])
    for name in models:
        row[f"auc_{name}"] = float(metrics.loc[name, "auc"])
    row["oracle_minus_baseline"] = row["auc_oracle"] - row["auc_baseline"]
    if "learned" in models:
        row["learned_minus_oracle"] = row["auc_learned"] - row["auc_oracle"]
        row["learned_minus_baseline"] = row["auc_learned"] - row["auc_baseline"]
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--worlds", nargs="+", default=list(WORLDS),
                    help="world names, or JSON objects of overrides (key 'base': "
                         "start from a named world)")
    ap.add_argument("--fit-start", default="2024-04-01")
    ap.add_argument("--fit-end", default="2025-03-31")
    ap.add_argument("--test-start", default="2025-06-30")
    ap.add_argument("--test-end", default="2025-09-29")
    ap.add_argument("--no-learned", action="store_true", help="references only (fast)")
    ap.add_argument("--xgb", action="store_true", help="also fit the XGBoost challenger")
    ap.add_argument("--show-weights", action="store_true")
    ap.add_argument("--json", help="append one JSON line per world to this file")
    args = ap.parse_args(argv)

    rows = []
    for spec in args.worlds:
        world = json.loads(spec) if spec.lstrip().startswith("{") else spec
        label = spec
        if isinstance(world, dict):
            label = world.pop("label", spec)
            if "base" in world:  # a named world plus overrides
                world = {**WORLDS[world.pop("base")], **world}
        row = {"world": label, **run_world(world, args)}
        rows.append(row)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                          for k, v in row.items() if k != "spec"}), flush=True)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"accounts": args.accounts, "seed": args.seed, **row}) + "\n")
    cols = [c for c in ("world", "auc_learned", "auc_xgboost", "auc_baseline", "auc_oracle",
                        "auc_count", "auc_firmo_only", "auc_baseline_fit", "spearman", "learned_minus_oracle",
                        "learned_minus_baseline", "oracle_minus_baseline")
            if any(c in r for r in rows)]
    table = pd.DataFrame(rows).reindex(columns=cols)
    with pd.option_context("display.width", 200, "display.max_colwidth", 40):
        print(table.round(4).to_string(index=False))
    return 0 if np.isfinite(table.drop(columns="world").to_numpy(float)).all() else 1


if __name__ == "__main__":
    sys.exit(main())
