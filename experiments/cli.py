"""The ``abm`` command line: a thin shell over the packages.

Each command parses its options, calls library functions, prints, and returns.
Errors a user can fix (:class:`features.errors.WorkbenchError`) become one
readable line on stderr and exit code 2; anything else is a bug and shows its
traceback.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import click
import pandas as pd
import typer
from rich.text import Text

from experiments._console import StageTimer, console, err_console, print_frame
from features.dates import to_utc
from features.errors import WorkbenchError

__all__ = ["app", "main"]

app = typer.Typer(
    name="abm",
    help="ABM attribution workbench: validate exports, build journeys, attribute, score engagement and project CLV. Example: abm demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

DataDir = Annotated[Path, typer.Argument(help="Folder with <table>.csv or <table>.parquet files.")]
MappingOpt = Annotated[
    Optional[Path],
    typer.Option("--mapping", "-m", help="Mapping YAML for a CRM / marketing-automation export (see configs/mappings/)."),
]


def _load(data: Path, mapping: Path | None, now: str | None = None):
    from features.mapping import IDENTITY, load_mapping
    from features.validation import load_dataset

    return load_dataset(data, mapping=load_mapping(mapping) if mapping else IDENTITY, now=now)


def _print_quarantine_examples(validated, limit: int = 10) -> None:
    q = validated.quarantine
    if q.empty:
        return
    console.print(f"[yellow]{len(q):,} rows quarantined[/]; first {min(limit, len(q))}:")
    for row in q.head(limit).itertuples(index=False):
        label = "line" if str(row.file).endswith(".csv") else "row"
        line = f"{row.line:,}" if row.line is not None and row.line == row.line else "?"
        console.print(f"  {row.file} {label} {line}: {row.reason}", markup=False, soft_wrap=True)


@app.command()
def validate(
    data: DataDir,
    mapping: MappingOpt = None,
    quarantine_dir: Annotated[
        Optional[Path], typer.Option(help="Write quarantine.csv and validation_summary.csv here.")
    ] = None,
    now: Annotated[Optional[str], typer.Option(help="Timestamps after this are 'future' (default: now).")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any row was quarantined.")] = False,
) -> int:
    """Check every input table against its contract; keep rejected rows with their reason.

    Example: [bold]abm validate data/ --mapping configs/mappings/salesforce.yaml --quarantine-dir out/q[/]
    """
    validated = _load(data, mapping, now)
    print_frame(validated.summary(), title="Validation summary")
    _print_quarantine_examples(validated)
    if quarantine_dir is not None:
        path = validated.write_quarantine(quarantine_dir)
        console.print(f"quarantine written to {path}")
    return 1 if strict and len(validated.quarantine) else 0


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the tables and ground_truth.json to.")],
    accounts: Annotated[int, typer.Option(min=10, help="Number of accounts.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, byte-identical files.")] = 0,
    format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> int:
    """Generate synthetic ABM data with planted ground truth.

    Example: [bold]abm generate --accounts 2000 --seed 7 --out data/ --format parquet[/]
    """
    from features.errors import ConfigError
    from features.synthetic import generate_dataset, write_dataset

    if format not in ("csv", "parquet"):
        raise ConfigError(f"--format {format!r} is not supported (expected csv or parquet)")
    timer = StageTimer()
    with timer.stage(f"generate {accounts:,} accounts"):
        dataset = generate_dataset(accounts, seed=seed)
    with timer.stage(f"write {format}"):
        paths = write_dataset(dataset, out, format=format)
    for name, frame in dataset.tables.items():
        console.print(f"  {name:<20} {len(frame):>12,} rows")
    console.print(f"wrote {len(paths)} files to {out}")
    return 0


def _parse_list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


@app.command()
def paths(
    data: DataDir,
    out: Annotated[Path, typer.Option("--out", "-o", help="Path table CSV or Parquet (by suffix).")],
    mapping: MappingOpt = None,
    conversion: Annotated[str, typer.Option(help="opportunity_created or closed_won.")] = "opportunity_created",
    lookback_days: Annotated[int, typer.Option(min=1, help="Touches this long before a conversion count.")] = 365,
    collapse_repeats: Annotated[bool, typer.Option(help="Merge consecutive touches of one channel.")] = False,
    max_length: Annotated[Optional[int], typer.Option(min=1, help="Keep the last N touches of a path.")] = None,
    by: Annotated[Optional[str], typer.Option(help="Breakdown columns, e.g. segment,abm_tier.")] = None,
    journeys_out: Annotated[Optional[Path], typer.Option(help="Also write the journey-level touch table.")] = None,
) -> int:
    """Build account journeys and the ChannelAttribution-format path table.

    Example: [bold]abm paths data/ --out paths.csv --conversion closed_won --lookback-days 180 --by abm_tier[/]
    """
    from features.journeys import JourneyConfig, build_journeys

    timer = StageTimer()
    with timer.stage("load and validate"):
        validated = _load(data, mapping)
    config = JourneyConfig(
        conversion=conversion,
        lookback_days=lookback_days,
        collapse_repeats=collapse_repeats,
        max_path_length=max_length,
        breakdowns=_parse_list(by),
    )
    with timer.stage("build journeys"):
        journeys = build_journeys(validated.tables, config=config)
    _write_frame(journeys.paths, out)
    if journeys_out is not None:
        _write_frame(journeys.touches, journeys_out)
    print_frame(journeys.paths.sort_values("total_conversions", ascending=False), title="Top paths", max_rows=10)
    console.print(_stats_line(journeys.stats))
    console.print(f"path table written to {out}")
    return 0


def _stats_line(stats) -> str:
    items = stats.items() if isinstance(stats, dict) else vars(stats).items()
    return "journeys: " + ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in items)


def _write_frame(frame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


DEFAULT_MODELS = "first_touch,last_touch,linear,position_based,time_decay,markov,shapley,shapley_rate,data_driven"
ROLE_BREAKDOWN = "buying_role"


def _fit_on_journeys(estimator, journeys, tables):
    """Fit a time-aware or milestone model on the journey touch table."""
    if estimator.name in ("w_shaped", "full_path"):
        return estimator.fit_journeys(journeys.touches, tables["opportunities"])
    if estimator.name.startswith("data_driven"):
        return estimator.fit_journeys(journeys.touches, observation_end=journeys.stats.observation_end)
    return estimator.fit_journeys(journeys.touches)


@app.command()
def attribute(
    out: Annotated[Path, typer.Option("--out", "-o", help="Result table CSV or Parquet (long format).")],
    paths_file: Annotated[
        Optional[Path], typer.Option("--paths", help="A ChannelAttribution-format path table (CSV or Parquet).")
    ] = None,
    data: Annotated[Optional[Path], typer.Option(help="Or: raw tables, through the journey builder.")] = None,
    models: Annotated[str, typer.Option(help="Comma-separated model names.")] = DEFAULT_MODELS,
    order: Annotated[str, typer.Option(help="Markov order 1-4 or auto.")] = "1",
    sep: Annotated[str, typer.Option(help="Channel separator in paths (spaces around it are ignored).")] = ">",
    path_col: Annotated[str, typer.Option(help="Path column.")] = "path",
    conv_col: Annotated[str, typer.Option(help="Conversions column.")] = "total_conversions",
    null_col: Annotated[str, typer.Option(help="Non-conversions column ('' if absent).")] = "total_null",
    value_col: Annotated[str, typer.Option(help="Conversion value column ('' if absent).")] = "total_conversion_value",
    ci: Annotated[Optional[float], typer.Option(min=0.5, max=0.999, help="Bootstrap interval level, e.g. 0.95.")] = None,
    n_boot: Annotated[int, typer.Option(min=10, help="Bootstrap replicates.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of every random step.")] = 0,
    by: Annotated[Optional[str], typer.Option(help="Breakdown columns, e.g. segment,abm_tier.")] = None,
    mapping: MappingOpt = None,
    conversion: Annotated[str, typer.Option(help="With --data: opportunity_created or closed_won.")] = "opportunity_created",
    lookback_days: Annotated[int, typer.Option(min=1, help="With --data: journey lookback.")] = 365,
    compare_abm: Annotated[
        bool, typer.Option(help="Also write ABM vs non-ABM shares side by side (<out>_abm_vs_non_abm.csv).")
    ] = False,
    stages_out: Annotated[
        Optional[Path], typer.Option(help="With --data: credit of each funnel stage move to the touches before it.")
    ] = None,
    use_journeys: Annotated[
        bool,
        typer.Option(help="With --data: fit time-aware models on the journey table (time_decay in days, data-driven with recency)."),
    ] = False,
) -> int:
    """Credit conversions and value to channels with several models at once.

    --by takes path-table breakdown columns (segment, region, business_unit,
    abm_tier) and, with --data, buying_role (credit per channel and role of the
    committee member touched). The milestone models w_shaped and full_path need
    --data (they read lead and opportunity milestones from the journeys).

    Example: [bold]abm attribute --data data/ --models w_shaped,time_decay,data_driven --use-journeys --out credit.csv[/]

    Example: [bold]abm attribute --paths paths.csv --models linear,markov,shapley --order 2 --ci 0.95 --out credit.csv[/]

    Example: [bold]abm attribute --data data/ --by abm_tier --models markov,shapley_rate --out credit.csv[/]
    """
    from attribution import attribute as run_attribution
    from attribution import JOURNEY_MODELS, attribute_by_role, attribute_by_stage, make_model
    from attribution import compare_abm as run_compare_abm
    from features.errors import ConfigError
    from features.loading import read_table_file

    if (paths_file is None) == (data is None):
        raise ConfigError("give exactly one of --paths FILE or --data DIR")
    breakdowns = _parse_list(by)
    by_role = ROLE_BREAKDOWN in breakdowns
    breakdowns = tuple(b for b in breakdowns if b != ROLE_BREAKDOWN)
    if by_role and breakdowns:
        raise ConfigError("--by buying_role cannot be combined with other breakdowns; run them separately")
    if (by_role or stages_out is not None) and data is None:
        raise ConfigError("--by buying_role and --stages-out need the touches: use --data DIR instead of --paths")
    timer = StageTimer()
    journeys = None
    with timer.stage("load paths"):
        if paths_file is not None:
            table, _, malformed = read_table_file(paths_file)
            if malformed:
                m = malformed[0]
                raise ConfigError(f"{paths_file.name} line {m.line}: the line {m.reason}")
        else:
            from features.journeys import JourneyConfig, build_journeys

            validated = _load(data, mapping)
            wanted = tuple(dict.fromkeys(breakdowns + (("abm_tier",) if compare_abm else ())))
            config = JourneyConfig(conversion=conversion, lookback_days=lookback_days, breakdowns=wanted)
            journeys = build_journeys(validated.tables, config=config)
            table = journeys.paths
    missing = [c for c in breakdowns if c not in table.columns]
    if missing:
        raise ConfigError(f"--by {missing[0]!r}: not a column of the path table ({', '.join(map(str, table.columns))})")
    if order != "auto" and not order.isdigit():
        raise ConfigError(f"--order {order!r}: expected 1, 2, 3, 4 or auto")
    markov_order: int | str = order if order == "auto" else int(order)
    estimators = []
    for name in _parse_list(models):
        params = {"ci": ci, "n_boot": n_boot, "random_state": seed}
        if name == "markov":
            params["order"] = markov_order
        estimators.append(make_model(name, **params))
    columns = dict(
        path_col=path_col, conv_col=conv_col, null_col=null_col or None, value_col=value_col or None, sep=sep
    )
    journey_fitted = [e for e in estimators if e.name in JOURNEY_MODELS or (use_journeys and hasattr(e, "fit_journeys"))]
    if journey_fitted and data is None:
        raise ConfigError(
            f"{journey_fitted[0].name} on journeys needs the touches: use --data DIR instead of --paths"
        )
    if journey_fitted and (breakdowns or by_role):
        raise ConfigError(f"{journey_fitted[0].name} on journeys does not support --by; run it without --by")
    label = f"fit {len(estimators)} models" + (f" with {n_boot} bootstrap replicates" if ci else "")
    with timer.stage(label + (" per buying role" if by_role else "")):
        if by_role:
            result = pd.concat([attribute_by_role(journeys.touches, est) for est in estimators], ignore_index=True)
        else:
            frames = []
            path_models = [e for e in estimators if e not in journey_fitted]
            if path_models:
                frames.append(run_attribution(table, path_models, by=list(breakdowns) or None, **columns))
            for est in journey_fitted:
                frames.append(_fit_on_journeys(est, journeys, validated.tables).result_)
            result = pd.concat(frames, ignore_index=True)
    _write_frame(result, out)
    if compare_abm:
        if "abm_tier" not in table.columns:
            raise ConfigError("--compare-abm needs an abm_tier column in the path table (use --data, or --by abm_tier when building paths)")
        with timer.stage("ABM vs non-ABM"):
            frames = []
            for est in estimators:
                cmp = run_compare_abm(table, est, **columns).reset_index()
                cmp.insert(0, "model", est.name if est.name != "markov" else f"markov_order_{est.order}")
                frames.append(cmp)
            comparison = pd.concat(frames, ignore_index=True)
        cmp_path = out.with_name(f"{out.stem}_abm_vs_non_abm{out.suffix}")
        _write_frame(comparison, cmp_path)
        first = comparison[comparison["model"] == comparison["model"].iloc[0]]
        print_frame(first[["channel", "share_abm", "share_non_abm", "share_diff"]].round(4), title=f"ABM vs non-ABM ({first['model'].iloc[0]})")
        console.print(f"ABM comparison written to {cmp_path}")
    if stages_out is not None:
        with timer.stage("stage transitions"):
            t = validated.tables
            if "opportunity_stages" not in t:
                raise ConfigError("--stages-out needs opportunity_stages.csv or .parquet in the data folder")
            stages = attribute_by_stage(t["touchpoints"], t["opportunities"], t["opportunity_stages"])
        _write_frame(stages, stages_out)
        console.print(f"stage-transition credit written to {stages_out}")
    # one row per channel (and role); with --by, the mean share over the slices
    index = ["channel", ROLE_BREAKDOWN] if by_role else ["channel"]
    wide = result.pivot_table(index=index, columns="model", values="share", aggfunc="mean", sort=False)
    print_frame(wide.reset_index().round(4), title="Share of conversions by model", max_rows=40)
    console.print(timer.table())
    console.print(f"result written to {out}")
    return 0


@app.command()
def features(
    data: DataDir,
    as_of: Annotated[str, typer.Option(help="Features use only touches up to this date (UTC).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Feature table CSV or Parquet.")],
    mapping: MappingOpt = None,
    half_life_days: Annotated[float, typer.Option(min=0.1, help="Recency-decay half-life.")] = 30.0,
) -> int:
    """Build account signal features as of a date (no later data leaks in).

    Example: [bold]abm features data/ --as-of 2025-06-30 --out features.parquet[/]
    """
    from features.signals import SignalConfig, build_signal_features

    validated = _load(data, mapping)
    t = validated.tables
    frame = build_signal_features(
        t["touchpoints"], t.get("contacts"), t["accounts"], as_of, SignalConfig(half_life_days=half_life_days)
    )
    _write_frame(frame, out)
    console.print(f"{len(frame):,} accounts x {frame.shape[1]:,} columns written to {out}")
    return 0


def _weekly(start, end) -> list:
    return list(pd.date_range(start.normalize(), end.normalize(), freq="7D"))


def engagement_schedule(observation_end, first_touch, *, horizon_days: int, test_weeks: int):
    """Weekly training and backtest as-of dates inside the data window.

    The backtest takes the last ``test_weeks`` weeks whose horizon still ends
    inside the data; training ends one horizon (plus a week) before the
    backtest starts, so no training label looks into the backtest period.
    """
    horizon = pd.Timedelta(days=horizon_days)
    test_end = observation_end - horizon
    test_start = test_end - pd.Timedelta(weeks=test_weeks - 1)
    fit_end = test_start - horizon - pd.Timedelta(weeks=1)
    fit_start = first_touch + pd.Timedelta(days=90)  # a quarter of history before the first row
    return _weekly(fit_start, fit_end), _weekly(test_start, test_end)


@app.command()
def engagement(
    data: DataDir,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the weights, scores and backtest tables.")],
    mapping: MappingOpt = None,
    horizon_days: Annotated[int, typer.Option(min=7, help="Label: an opportunity opens within this many days.")] = 90,
    target: Annotated[str, typer.Option(help="opportunity_created or closed_won.")] = "opportunity_created",
    test_weeks: Annotated[int, typer.Option(min=2, help="Weekly as-of dates in the backtest.")] = 13,
    baseline: Annotated[
        Optional[Path], typer.Option(help="Hand-set points table (default: configs/baseline_engagement_weights.yaml).")
    ] = None,
    challenger: Annotated[bool, typer.Option(help="Also fit the XGBoost challenger.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of every random step.")] = 0,
) -> int:
    """Learn engagement-score signal weights from history and backtest them.

    Trains on weekly as-of dates, backtests on the last weeks whose horizon is
    observed, next to the hand-set baseline (and the planted truth when the data
    came from `abm generate`). Writes engagement_signal_weights.csv, the
    multipliers, account scores as of the last date and the backtest tables.

    Example: [bold]abm engagement data/ --out out/engagement --horizon-days 90[/]
    """
    import json

    from models.engagement import (
        EngagementWeightModel,
        HandSetBaseline,
        OracleModel,
        XGBEngagementModel,
        backtest,
    )

    timer = StageTimer()
    with timer.stage("load and validate"):
        validated = _load(data, mapping)
    tables = validated.tables
    stamps = tables["touchpoints"]["timestamp"]
    fit_dates, test_dates = engagement_schedule(
        stamps.max(), stamps.min(), horizon_days=horizon_days, test_weeks=test_weeks
    )
    if len(fit_dates) < 8:
        from features.errors import DataValidationError

        raise DataValidationError(
            f"{data.name}: only {len(fit_dates)} weekly training dates fit before the backtest; "
            "the data must span at least about a year (or use a shorter --horizon-days / --test-weeks)"
        )
    models = {}
    with timer.stage(f"fit learned weights on {len(fit_dates)} weekly as-of dates"):
        models["learned"] = EngagementWeightModel(
            horizon_days=horizon_days, target=target, random_state=seed
        ).fit(tables, fit_dates)
    if challenger:
        with timer.stage("fit XGBoost challenger"):
            models["xgboost"] = XGBEngagementModel(
                horizon_days=horizon_days, target=target, random_state=seed
            ).fit(tables, fit_dates)
    with timer.stage("calibrate the hand-set baseline"):
        models["baseline"] = HandSetBaseline.from_yaml(baseline or CONFIGS / "baseline_engagement_weights.yaml", horizon_days=horizon_days, target=target).fit(
            tables, fit_dates
        )
    truth = data / "ground_truth.json"
    if truth.exists():
        with timer.stage("calibrate the oracle (planted weights)"):
            gt = json.loads(truth.read_text(encoding="utf-8"))
            models["oracle"] = OracleModel.from_ground_truth(gt, horizon_days=horizon_days, target=target).fit(
                tables, fit_dates
            )
    with timer.stage(f"backtest on {len(test_dates)} weekly as-of dates"):
        metrics, calibration = backtest(
            models, tables, test_dates, horizon_days=horizon_days, target=target, return_calibration=True
        )
    learned = models["learned"]
    out.mkdir(parents=True, exist_ok=True)
    learned.weights_.to_csv(out / "engagement_signal_weights.csv", index=False)
    intervals = learned.multiplier_intervals_
    for kind in ("role", "seniority"):
        intervals[intervals["kind"] == kind].drop(columns="kind").to_csv(
            out / f"{kind}_multipliers.csv", index=False
        )
    learned.tier_multipliers_.rename_axis("level").reset_index().to_csv(
        out / "tier_multipliers.csv", index=False
    )
    learned.score(tables, stamps.max()).to_csv(out / "account_scores.csv", index=False)
    metrics.to_csv(out / "backtest_metrics.csv", index=False)
    calibration.to_csv(out / "backtest_calibration.csv", index=False)

    print_frame(learned.weights_.head(20).round(3), title=f"Learned signal points (half-life {learned.half_life_:g} days)")
    print_frame(metrics.round(4), title="Backtest (out of time)")
    console.print(timer.table())
    console.print(f"outputs in {out}/")
    return 0


@app.command()
def clv(
    data: DataDir,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the CLV tables.")],
    mapping: MappingOpt = None,
    cutoff: Annotated[
        Optional[str], typer.Option(help="End of the calibration period (default: holdout-months before the data ends).")
    ] = None,
    holdout_months: Annotated[int, typer.Option(min=1, help="Holdout length after the cut-off.")] = 6,
    discount_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Yearly discount rate of CLV.")] = 0.10,
    n_boot: Annotated[int, typer.Option(min=10, help="Bootstrap replicates of the ABM intervals.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of every random step.")] = 0,
) -> int:
    """Project customer lifetime value and compare ABM with non-ABM accounts.

    Fits BG/NBD, Pareto/NBD (+ Gamma-Gamma) and an XGBoost model on the period up
    to the cut-off and scores them on the holdout; fits the contractual
    shifted-beta-geometric model per segment; estimates the ABM effect on deal
    size, churn and CLV per tier, naive and adjusted for the selection of target
    accounts, with bootstrap intervals.

    Example: [bold]abm clv data/ --out out/clv --holdout-months 6 --discount-rate 0.1[/]
    """
    from models.clv import (
        MLCLVModel,
        abm_clv_effects,
        clv_holdout_predictions,
        clv_metrics,
        fit_survival_by_segment,
    )

    timer = StageTimer()
    with timer.stage("load and validate"):
        validated = _load(data, mapping)
    tables = validated.tables
    end = tables["touchpoints"]["timestamp"].max()
    cut = to_utc(cutoff, "--cutoff") if cutoff else (end - pd.DateOffset(months=holdout_months)).normalize()
    out.mkdir(parents=True, exist_ok=True)
    with timer.stage(f"holdout comparison (cut-off {cut:%Y-%m-%d}, {holdout_months} months)"):
        holdout = clv_holdout_predictions(tables, cut, holdout_months, model=MLCLVModel(random_state=seed))
        metrics = clv_metrics(holdout.actual, holdout.predictions)
        metrics.to_csv(out / "clv_holdout_metrics.csv", index=False)
        holdout.predictions.assign(actual=holdout.actual).to_csv(out / "clv_holdout_predictions.csv")
        holdout.model.shap_importance_.to_csv(out / "clv_xgboost_shap_importance.csv", index=False)
    if "contracts" in tables and len(tables["contracts"]):
        with timer.stage("contractual sBG per segment"):
            contracts = tables["contracts"].merge(tables["accounts"][["account_id", "segment"]], on="account_id", how="left")
            fits = fit_survival_by_segment(contracts, observation_end=end, segment_col="segment")
            rows = [{"segment": seg, **m.params_, "log_likelihood": m.log_likelihood_} for seg, m in fits.items()]
            pd.DataFrame(rows).to_csv(out / "sbg_parameters_by_segment.csv", index=False)
        with timer.stage(f"ABM vs non-ABM CLV ({n_boot} bootstrap replicates)"):
            effects = abm_clv_effects(
                tables, observation_end=end, discount_rate=discount_rate, n_boot=n_boot, random_state=seed
            )
            effects.to_csv(out / "abm_clv_effects.csv", index=False)
        shown = effects[["tier", "metric", "estimator", "ratio", "ratio_ci_low", "ratio_ci_high", "non_abm_effective_n"]]
        print_frame(shown.round(3), title="ABM effect per tier (ratio to non-ABM): naive vs adjusted for targeting", max_rows=30)
    print_frame(metrics.round(3), title="CLV holdout: who ranks and sizes next period's revenue best")
    console.print(timer.table())
    console.print(f"outputs in {out}/")
    return 0


DEMO_MODELS = ("first_touch", "last_touch", "linear", "position_based", "markov", "shapley")


def _planted_shares(data: Path) -> dict[str, float] | None:
    """The generator's planted per-channel shares, when the data came from it."""
    import json

    truth = data / "ground_truth.json"
    if not truth.exists():
        return None
    return json.loads(truth.read_text(encoding="utf-8")).get("channel_effects", {}).get("shares")


@app.command()
def demo(
    data: Annotated[Optional[Path], typer.Option(help="Use this data folder instead of generating the sample.")] = None,
    accounts: Annotated[int, typer.Option(min=10, help="Accounts in the generated sample.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the generated sample and of every random step.")] = 0,
    n_boot: Annotated[int, typer.Option(min=10, help="Bootstrap replicates for the intervals.")] = 200,
    out: Annotated[Path, typer.Option(help="Where the demo writes its outputs.")] = Path("demo_output"),
) -> int:
    """Run the main job end to end on the built-in sample data.

    Generates the sample (unless --data is given), validates it, builds journeys,
    the path table and account features, attributes conversions with several
    models (with 95% bootstrap intervals), and prints a summary with stage timings.

    Example: [bold]abm demo --accounts 2000 --seed 0 --out demo_output[/]
    """
    from attribution import attribute as run_attribution
    from attribution import make_model
    from features.journeys import JourneyConfig, build_journeys, path_table_from_journeys
    from features.signals import SignalConfig, build_signal_features

    timer = StageTimer()
    out.mkdir(parents=True, exist_ok=True)
    if data is None:
        from features.synthetic import generate_dataset, write_dataset

        data = out / "data"
        with timer.stage(f"generate sample ({accounts:,} accounts, seed {seed})"):
            write_dataset(generate_dataset(accounts, seed=seed), data, format="csv")
    with timer.stage("load and validate"):
        validated = _load(data, None)
        validated.write_quarantine(out / "quarantine")
    tables = validated.tables
    with timer.stage("build journeys and path table"):
        journeys = build_journeys(tables, config=JourneyConfig())
        paths = journeys.paths
        by_tier = path_table_from_journeys(journeys, breakdowns=("abm_tier",), accounts=tables["accounts"])
        _write_frame(paths, out / "paths.csv")
        _write_frame(by_tier, out / "paths_by_abm_tier.csv")
        _write_frame(journeys.touches, out / "journeys.parquet")
    as_of = tables["touchpoints"]["timestamp"].max()
    with timer.stage(f"account signal features as of {as_of:%Y-%m-%d}"):
        feats = build_signal_features(tables["touchpoints"], tables.get("contacts"), tables["accounts"], as_of, SignalConfig())
        _write_frame(feats, out / "account_features.parquet")
    with timer.stage(f"attribution: {len(DEMO_MODELS)} models, {n_boot} bootstrap replicates"):
        models = [make_model(m, ci=0.95, n_boot=n_boot, random_state=seed) for m in DEMO_MODELS]
        credit = run_attribution(paths, models)
        _write_frame(credit, out / "attribution.csv")

    console.rule("Summary")
    print_frame(validated.summary().drop(columns=["by_rule"]), title="Validation")
    console.print(_stats_line(journeys.stats), soft_wrap=True)
    wide = credit.pivot_table(index="channel", columns="model", values="share", sort=False)
    planted = _planted_shares(data)
    if planted:
        wide.insert(0, "planted", wide.index.map(planted).astype(float))
    wide = wide.sort_values(wide.columns[0], ascending=False)
    print_frame((wide * 100).round(1).reset_index(), title="Share of opportunities created, % (planted = generator truth)", max_rows=30)
    if planted:
        tv = {m: 0.5 * (wide[m] - wide["planted"]).abs().sum() for m in wide.columns if m != "planted"}
        console.print("distance to planted shares (total variation): " + ", ".join(f"{m} {v:.3f}" for m, v in sorted(tv.items(), key=lambda kv: kv[1])), soft_wrap=True)
    console.print(timer.table())
    console.print(f"outputs in {out}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``abm`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # pandera imports pyspark.pandas when pyspark is installed (the spark extra), which warns
    # about pandas 3 although nothing of pandas-on-Spark is used; keep the terminal clean.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    try:
        result = app(args=argv, standalone_mode=False)
    except WorkbenchError as exc:
        err_console.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        return 2
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 130
    except click.exceptions.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
