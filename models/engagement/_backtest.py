"""Backtest like a vendor's model-insight report: score the past, check the future.

For each model and each as-of date ``T`` of the backtest schedule, every at-risk
account is scored with data up to ``T`` and labelled by what happened in
``(T, T + H]``. Over all those rows:

``auc``          ROC AUC of the decision value (ranking; ties get half credit).
``pr_auc``       average precision of the decision value.
``log_loss``     of the calibrated probability (clipped to ``[1e-15, 1 - 1e-15]``).
``brier``        mean squared error of the calibrated probability.
``top_decile_lift``  positive rate among the 10% highest decisions over the
                 overall positive rate (per date, then row-weighted), the
                 vendors' "accounts in the top decile open pipeline x times as
                 often".
``calibration_table``  deciles of predicted probability: mean predicted,
                 observed rate, rows.

References
----------
Fawcett, T. (2006). An introduction to ROC analysis. Pattern Recognition
Letters 27(8), 861-874.
Niculescu-Mizil, A. and Caruana, R. (2005). Predicting good probabilities with
supervised learning. ICML, 625-632.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from features.errors import ConfigError

from . import _data as D
from ._base import require_positives

__all__ = ["backtest", "calibration_table"]


def _top_decile_lift(f: np.ndarray, y: np.ndarray, k: np.ndarray) -> float:
    hits = n = 0
    for kk in np.unique(k):
        m = k == kk
        fk, yk = f[m], y[m]
        top = max(1, int(np.ceil(0.1 * len(fk))))
        idx = np.argsort(-fk, kind="stable")[:top]
        hits += yk[idx].sum()
        n += top
    base = y.mean()
    return float((hits / n) / base) if base > 0 else float("nan")


def calibration_table(
    probability: np.ndarray | pd.Series, y: np.ndarray | pd.Series, *, n_bins: int = 10
) -> pd.DataFrame:
    """Deciles (quantile bins) of predicted probability: mean predicted vs observed.

    Returns
    -------
    DataFrame, shape (<= n_bins, 4)
        ``bin`` (1 = lowest), ``mean_predicted``, ``observed_rate``, ``rows``.
    """
    p = np.asarray(probability, dtype=float)
    y = np.asarray(y, dtype=float)
    if p.shape != y.shape or p.size == 0:
        raise ConfigError(
            f"calibration_table: probability and y must be non-empty and the same "
            f"length, got {p.shape} and {y.shape}"
        )
    order = np.argsort(p, kind="stable")
    bins = np.empty(len(p), dtype=int)
    bins[order] = (np.arange(len(p)) * n_bins) // len(p)
    df = pd.DataFrame({"bin": bins + 1, "p": p, "y": y})
    out = df.groupby("bin").agg(
        mean_predicted=("p", "mean"), observed_rate=("y", "mean"), rows=("y", "size")
    )
    return out.reset_index()


def backtest(
    models: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    as_of_dates: Any,
    *,
    horizon_days: float = 90,
    target: str = "opportunity_created",
    return_calibration: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Score fitted models on past as-of dates and check the next ``H`` days.

    Parameters
    ----------
    models : dict of str to fitted scorer
        E.g. ``{"learned": EngagementWeightModel(...).fit(...), "baseline":
        HandSetBaseline.from_yaml(...).fit(...), "oracle": ...}``; each needs
        ``decision_panel`` and ``calibrator_`` (every model of this package).
    tables : mapping of str to DataFrame
    as_of_dates : sequence of date-like
        The backtest schedule; should come after the models' training dates
        (plus the horizon) for an honest out-of-time estimate.
    horizon_days : float, default 90
    target : {"opportunity_created", "closed_won"}
    return_calibration : bool, default False
        Also return the long calibration table (``model`` column added).

    Returns
    -------
    metrics : DataFrame
        One row per model: ``model``, ``rows``, ``positives``, ``base_rate``,
        ``auc``, ``pr_auc``, ``log_loss``, ``brier``, ``top_decile_lift``.
    calibration : DataFrame, only with ``return_calibration``
    """
    who = "backtest"
    if not isinstance(models, Mapping) or not models:
        raise ConfigError(f"{who}: models must be a non-empty dict of name to fitted model")
    target = D.check_target(target, who)
    D.check_positive(horizon_days, "horizon_days", who)
    queries = D.dates_ns(as_of_dates, who)
    rows, cal = [], []
    labels: dict[tuple, tuple] = {}
    for name, model in models.items():
        if not hasattr(model, "decision_panel"):
            raise ConfigError(
                f"{who}: model {name!r} ({type(model).__name__}) is not an engagement "
                f"scorer of models.engagement"
            )
        signals = getattr(model, "signals_", None)
        enc = D.encode(tables, who, signals=signals)
        D.check_dates_in_data(enc, queries, horizon_days, who)
        key = (id(tables),)
        if key not in labels:
            labels[key] = D.labels_and_risk(enc, queries, horizon_days, target)
        y_all, risk = labels[key]
        f = model.decision_panel(enc, queries)
        p = model.calibrator_.predict(f)
        k, _ = np.nonzero(risk)
        y, fv, pv = y_all[risk].astype(float), f[risk], p[risk]
        require_positives(y, "backtest", who, target)
        pc = np.clip(pv, 1e-15, 1 - 1e-15)
        rows.append(
            {
                "model": name,
                "rows": int(len(y)),
                "positives": int(y.sum()),
                "base_rate": float(y.mean()),
                "auc": float(roc_auc_score(y, fv)),
                "pr_auc": float(average_precision_score(y, fv)),
                "log_loss": float(log_loss(y, pc, labels=[0, 1])),
                "brier": float(np.mean((pv - y) ** 2)),
                "top_decile_lift": _top_decile_lift(fv, y, k),
            }
        )
        if return_calibration:
            ct = calibration_table(pv, y)
            ct.insert(0, "model", name)
            cal.append(ct)
    metrics = pd.DataFrame(rows)
    if return_calibration:
        return metrics, pd.concat(cal, ignore_index=True)
    return metrics
