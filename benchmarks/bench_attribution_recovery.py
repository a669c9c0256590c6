"""Ground-truth recovery: how close each attribution model gets to the planted effects.

Usage::

    python benchmarks/bench_attribution_recovery.py [--accounts 5000 20000] [--seed 11]
        [--dd-journeys 1000000]

For each size, generates the synthetic ABM world (``features.synthetic``,
fixed seed), builds journeys (``conversion="opportunity_created"``, default
365-day lookback), fits every path-table model and compares its channel
shares with the planted ones, ``ground_truth["channel_effects"]["shares"]``
(each channel's expected opportunity creations lost when its touches are
removed, normalised; see ``features.synthetic._generate``):

* TV: total-variation distance ``0.5 * sum_k |s_k - s*_k|`` (negative
  credits of ``shapley_rate`` are clipped to 0 and the shares renormalised
  for this figure only);
* Spearman: rank correlation of the (unclipped) shares with the planted ones.

A uniform ``1/K`` row is the reference a model must beat to have learned
anything about the channels. ``data_driven`` and ``data_driven_lr`` also run
on the journey touch table with the ``recency`` feature (``fit_journeys``).
A second block (sizes up to 5,000 accounts) repeats the comparison without
the touches made while an opportunity of the account was open (the
generator's sales-phase touches, which never cause an opportunity), a
diagnostic of whether they mislead the models. With
``--dd-journeys N`` it also times ``data_driven`` (XGBoost) and
``data_driven_lr`` on an N-journey path table (the random table of
``bench_attribution.py``). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attribution import MarkovAttribution, make_model  # noqa: E402
from features.journeys import JourneyConfig, build_journeys  # noqa: E402
from features.synthetic import generate_dataset  # noqa: E402


def model_list(seed: int) -> list:
    return [
        make_model("first_touch"),
        make_model("last_touch"),
        make_model("linear"),
        make_model("position_based"),
        make_model("time_decay"),
        MarkovAttribution(order=1),
        MarkovAttribution(order=2),
        MarkovAttribution(order=3),
        make_model("shapley"),
        make_model("shapley_rate"),
        make_model("data_driven", random_state=seed),
        make_model("data_driven_lr", random_state=seed),
    ]


def recovery(shares: pd.Series, truth: pd.Series) -> tuple[float, float]:
    """(TV distance, Spearman rho) of fitted shares against the planted shares."""
    s = shares.reindex(truth.index).fillna(0.0)
    clipped = s.clip(lower=0.0)
    clipped = clipped / clipped.sum()
    tv = 0.5 * float(np.abs(clipped - truth).sum())
    rho = float(spearmanr(s.to_numpy(), truth.to_numpy()).statistic)
    return tv, rho


def pre_opportunity_touchpoints(tables: dict) -> pd.DataFrame:
    """Touchpoints minus those inside an open opportunity's (created_at, closed_at] window."""
    tp = tables["touchpoints"]
    opp = tables["opportunities"]
    end = tp["timestamp"].max()
    windows = opp.assign(closed=opp["closed_at"].fillna(end))[["account_id", "created_at", "closed"]]
    merged = tp[["touchpoint_id", "account_id", "timestamp"]].merge(windows, on="account_id", how="inner")
    inside = merged[(merged["timestamp"] > merged["created_at"]) & (merged["timestamp"] <= merged["closed"])]
    return tp[~tp["touchpoint_id"].isin(inside["touchpoint_id"])]


def run_size(n_accounts: int, seed: int, pre_opportunity: bool) -> list[dict]:
    t0 = time.perf_counter()
    ds = generate_dataset(n_accounts, seed=seed)
    truth = pd.Series(ds.ground_truth["channel_effects"]["shares"], dtype=float)
    tables = {"full journeys": ds.tables}
    if pre_opportunity and n_accounts <= 5000:
        tables["pre-opportunity touches"] = {**ds.tables, "touchpoints": pre_opportunity_touchpoints(ds.tables)}
    rows = []
    print(f"# {n_accounts} accounts: generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    for variant, tabs in tables.items():
        journeys = build_journeys(tabs, config=JourneyConfig(conversion="opportunity_created"))
        paths = journeys.paths
        n_j = int(paths["total_conversions"].sum() + paths["total_null"].sum())
        uniform = pd.Series(1.0 / len(truth), index=truth.index)
        rows.append({"accounts": n_accounts, "variant": variant, "journeys": n_j,
                     "conversions": int(paths["total_conversions"].sum()), "model": "uniform (1/K, reference)",
                     "tv": recovery(uniform, truth)[0], "spearman": np.nan, "seconds": 0.0})
        fits = [(m, None, lambda m: m.fit(paths)) for m in model_list(seed)]
        if variant == "full journeys":
            end = journeys.stats.observation_end
            for name in ("data_driven", "data_driven_lr"):
                fits.append((make_model(name, random_state=seed), f"{name} + recency (journey table)",
                             lambda m: m.fit_journeys(journeys.touches, observation_end=end)))
        for model, label, fit in fits:
            t = time.perf_counter()
            fit(model)
            seconds = time.perf_counter() - t
            label = label or model._label()
            tv, rho = recovery(model.shares(), truth)
            metrics = getattr(model, "metrics_", {})
            rows.append({
                "accounts": n_accounts, "variant": variant, "journeys": n_j,
                "conversions": int(paths["total_conversions"].sum()), "model": label,
                "tv": tv, "spearman": rho, "seconds": seconds,
                "auc": metrics.get("holdout_auc", np.nan), "log_loss": metrics.get("holdout_log_loss", np.nan),
                "base_log_loss": metrics.get("holdout_base_log_loss", np.nan),
                "clipped": metrics.get("clipped_share", np.nan),
            })
            print(f"  {variant:24s} {label:18s} TV {tv:.3f} rho {rho:+.3f} {seconds:6.1f} s",
                  file=sys.stderr)
    return rows


def time_data_driven(n_journeys: int, seed: int) -> list[dict]:
    from bench_attribution import make_path_table  # same directory

    paths = make_path_table(n_journeys, 12, seed=seed)
    out = []
    for name in ("data_driven", "data_driven_lr"):
        model = make_model(name, random_state=seed)
        t = time.perf_counter()
        model.fit(paths)
        out.append({"model": name, "journeys": n_journeys, "distinct_paths": len(paths),
                    "seconds": time.perf_counter() - t, "auc": model.metrics_["holdout_auc"]})
        print(f"  {name} on {n_journeys} journeys: {out[-1]['seconds']:.1f} s", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-pre-opportunity", action="store_true", help="skip the diagnostic block")
    parser.add_argument("--dd-journeys", type=int, default=0, help="time data-driven models at this size")
    args = parser.parse_args(argv)
    rows = []
    for n in args.accounts:
        rows += run_size(n, args.seed, not args.no_pre_opportunity)
    frame = pd.DataFrame(rows)
    for variant, part in frame.groupby("variant", sort=False):
        print(f"\n### {variant}\n")
        wide = part.pivot_table(index="model", columns="accounts", values=["tv", "spearman"], sort=False,
                                dropna=False)
        order = list(dict.fromkeys(part["model"]))
        print("| model | " + " | ".join(f"TV {n:,} | rho {n:,}" for n in args.accounts) + " |")
        print("|---|" + "---:|---:|" * len(args.accounts))
        for m in order:
            cells = " | ".join(
                f"{wide.loc[m, ('tv', n)]:.3f} | {wide.loc[m, ('spearman', n)]:+.2f}"
                if ("tv", n) in wide.columns and m in wide.index and pd.notna(wide.loc[m, ("tv", n)]) else "– | –"
                for n in args.accounts
            )
            print(f"| {m} | {cells} |")
        meta = part.drop_duplicates("accounts")[["accounts", "journeys", "conversions"]]
        print("\n" + meta.to_string(index=False))
        dd = part[part["model"].str.startswith("data_driven")].sort_values(["model", "accounts"])
        print("\n" + dd[["accounts", "model", "auc", "log_loss", "base_log_loss", "clipped", "seconds"]]
              .round(3).to_string(index=False))
    if args.dd_journeys:
        print("\n" + pd.DataFrame(time_data_driven(args.dd_journeys, args.seed)).round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
