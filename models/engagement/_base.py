"""What every engagement scorer shares: calibration, panels, the 0-100 score.

A scorer has a *decision* ``f(a, T)`` (a real number, larger = more likely
to open pipeline) computed by its ``_decision(enc, queries)``; fitting
attaches a calibrator ``g`` fitted on held-out rows, and

.. math::

    p(a, T) = g(f(a, T)), \\qquad \\text{score}(a, T) = 100\\, p(a, T),

    \\text{momentum}_{d}(a, T) = \\text{score}(a, T) - \\text{score}(a, T - d).

``g`` is Platt scaling (``"sigmoid"``: a one-feature logistic regression of
the label on ``f``, strictly increasing, so the score ranks accounts exactly
as ``f`` does) or isotonic regression (``"isotonic"``: non-decreasing,
piecewise constant).

References
----------
Platt, J. (1999). Probabilistic outputs for support vector machines and
comparisons to regularized likelihood methods. Advances in Large Margin
Classifiers, 61-74.
Zadrozny, B. and Elkan, C. (2002). Transforming classifier scores into
accurate multiclass probability estimates. KDD, 694-699.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from features.errors import ConfigError, DataValidationError

from . import _data as D
from ._logit import fit_logistic

CALIBRATIONS = ("sigmoid", "isotonic")
MOMENTUM_DAYS = (30, 60, 90)


class Calibrator:
    """A fitted monotone map from decision values to probabilities."""

    def __init__(self, method: str) -> None:
        self.method = method

    def fit(self, f: np.ndarray, y: np.ndarray) -> Calibrator:
        if self.method == "sigmoid":
            scale = float(np.std(f)) or 1.0
            coef, b = fit_logistic((f / scale)[:, None], y, C=1e6, lower=np.array([0.0]))
            self.a_, self.b_ = float(coef[0]) / scale, b
        else:
            self.iso_ = IsotonicRegression(
                y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True
            ).fit(f, y)
        return self

    def predict(self, f: np.ndarray) -> np.ndarray:
        if self.method == "sigmoid":
            return 1.0 / (1.0 + np.exp(-(self.a_ * f + self.b_)))
        return self.iso_.predict(f.ravel()).reshape(f.shape)

    def __repr__(self) -> str:
        if self.method == "sigmoid":
            return f"Calibrator('sigmoid', a={self.a_:.4g}, b={self.b_:.4g})"
        return "Calibrator('isotonic')"


def check_calibration(value: Any, who: str) -> None:
    if value not in CALIBRATIONS:
        raise ConfigError(
            f"{who}: calibration must be one of {', '.join(CALIBRATIONS)}, got {value!r}"
        )


def require_positives(y: np.ndarray, what: str, who: str, target: str) -> None:
    if y.size == 0 or y.sum() == 0:
        raise DataValidationError(
            f"{who}: no positive labels ({target} within the horizon) among the "
            f"{y.size} at-risk {what} rows; use more or earlier as-of dates, a longer "
            f"horizon_days, or target='opportunity_created'"
        )
    if y.sum() == y.size:
        raise DataValidationError(
            f"{who}: every {what} row is positive; the labels cannot separate "
            f"accounts (check the opportunities table)"
        )


class EngagementScorerMixin(BaseEstimator):
    """Panels, scores and momentum from ``_decision`` and ``calibrator_``."""

    _fitted_attr = "calibrator_"

    # subclasses: def _decision(self, enc, queries) -> (K, A) array
    def _encode(self, tables: Mapping[str, pd.DataFrame]) -> D.Encoded:
        check_is_fitted(self, self._fitted_attr)
        return D.encode(tables, type(self).__name__, signals=self.signals_)

    def decision_panel(self, enc: D.Encoded, queries: np.ndarray) -> np.ndarray:
        """Decision values (K, A) on encoded tables (used by :func:`backtest`)."""
        check_is_fitted(self, self._fitted_attr)
        return self._decision(enc, queries)

    def predict_panel(
        self, tables: Mapping[str, pd.DataFrame], as_of_dates: Any
    ) -> pd.DataFrame:
        """Decision, probability and 0-100 score of every account at every date.

        Returns
        -------
        DataFrame, shape (n_dates * n_accounts, 6)
            ``account_id``, ``as_of``, ``decision``, ``probability``,
            ``score``, ``open_opportunity`` (an opportunity is open at the
            date: the account is not at risk of opening one), date-major.
        """
        who = type(self).__name__
        enc = self._encode(tables)
        queries = D.dates_ns(as_of_dates, who)
        D.check_dates_in_data(enc, queries, None, who)
        f = self._decision(enc, queries)
        p = self.calibrator_.predict(f)
        _, risk = D.labels_and_risk(enc, queries, 1.0, "opportunity_created")
        K, A = f.shape
        return pd.DataFrame(
            {
                "account_id": np.tile(enc.account_ids.to_numpy(), K),
                "as_of": pd.DatetimeIndex(np.repeat(queries, A), tz="UTC"),
                "decision": f.ravel(),
                "probability": p.ravel(),
                "score": 100.0 * p.ravel(),
                "open_opportunity": ~risk.ravel(),
            }
        )

    def score(self, tables: Mapping[str, pd.DataFrame], as_of: Any) -> pd.DataFrame:
        """The calibrated 0-100 engagement score as of one date, with momentum.

        Parameters
        ----------
        tables : mapping of str to DataFrame
            ``accounts``, ``contacts``, ``touchpoints``, ``opportunities``.
        as_of : date-like
            Touches up to and including ``as_of`` are used.

        Returns
        -------
        DataFrame, shape (n_accounts, 7)
            ``account_id``, ``score`` (``100 * probability``), ``probability``,
            ``momentum_30d``, ``momentum_60d``, ``momentum_90d`` (score now
            minus score 30/60/90 days earlier) and ``open_opportunity``.
        """
        who = type(self).__name__
        if isinstance(as_of, (list, tuple, np.ndarray, pd.Index, pd.Series)):
            raise ConfigError(f"{who}.score: as_of must be one date; use predict_panel")
        enc = self._encode(tables)
        T = D.to_ns(as_of, who)
        D.check_dates_in_data(enc, np.array([T]), None, who)
        earlier = [T - d * D.NS_PER_DAY for d in MOMENTUM_DAYS[::-1]]
        queries = np.array(earlier + [T], dtype=np.int64)
        p = self.calibrator_.predict(self._decision(enc, queries))
        s = 100.0 * p
        _, risk = D.labels_and_risk(enc, queries[-1:], 1.0, "opportunity_created")
        out = pd.DataFrame(
            {
                "account_id": enc.account_ids.to_numpy(),
                "score": s[-1],
                "probability": p[-1],
            }
        )
        for j, d in enumerate(MOMENTUM_DAYS[::-1]):
            out[f"momentum_{d}d"] = s[-1] - s[j]
        out = out[
            ["account_id", "score", "probability"]
            + [f"momentum_{d}d" for d in MOMENTUM_DAYS]
        ]
        out["open_opportunity"] = ~risk[0]
        return out


def time_split(
    queries: np.ndarray, validation_fraction: float, horizon_days: float, who: str
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training and validation as-of dates, with a horizon embargo.

    The last ``ceil(validation_fraction * K)`` dates validate; training keeps
    the earlier dates whose label window ``(T, T + H]`` ends on or before the
    first validation date, so no training label sees the validation period.
    """
    K = len(queries)
    n_val = max(1, int(np.ceil(validation_fraction * K)))
    if n_val >= K:
        raise ConfigError(
            f"{who}: {K} as-of date(s) cannot be split into training and validation; "
            f"give a longer schedule (e.g. a year of weekly dates)"
        )
    first_val = queries[K - n_val]
    H = int(round(horizon_days * D.NS_PER_DAY))
    train = np.flatnonzero(queries[: K - n_val] + H <= first_val)
    if train.size == 0:
        raise ConfigError(
            f"{who}: no training as-of date ends its {horizon_days:g}-day label window "
            f"before the validation dates start ({D.iso(first_val)}); give a longer "
            f"schedule (at least horizon_days before the validation slice) or lower "
            f"validation_fraction"
        )
    return train, np.arange(K - n_val, K)
