"""Gradient-boosted challenger: monotone in engagement, explained by SHAP.

Features per account-date: ``log(1 + E_as(T))`` for every signal (unit
multipliers, fixed half-life), ``log(1 + R_ar(T))`` the decayed engagement of
each buying role (all signals; anonymous touches as their own column) so the
trees can learn who matters, then the firmographic controls and the ABM tier
of :class:`EngagementWeightModel`. Every engagement feature is constrained
monotone increasing (``monotone_constraints = +1``): more engagement never
lowers the score; the controls are unconstrained.

Trees are grown on the training dates with early stopping on the validation
slice (the same time split and embargo as :class:`EngagementWeightModel`),
and the calibrator is fitted on the validation slice. ``shap_importance_`` is
the mean absolute SHAP value per feature on (a sample of) the validation rows,
by the exact TreeSHAP of Lundberg et al. (2020) as computed by XGBoost
(``pred_contribs``), which equals ``shap.TreeExplainer`` on the same booster.

References
----------
Chen, T. and Guestrin, C. (2016). XGBoost: a scalable tree boosting system. KDD.
Lundberg, S. M. et al. (2020). From local explanations to global understanding
with explainable AI for trees. Nature Machine Intelligence 2, 56-67.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from features.contracts import BUYING_ROLES, SENIORITIES

from . import _data as D
from ._base import (
    Calibrator,
    EngagementScorerMixin,
    check_calibration,
    require_positives,
    time_split,
)

__all__ = ["XGBEngagementModel"]


class XGBEngagementModel(EngagementScorerMixin):
    """Monotone XGBoost engagement score with a mean |SHAP| table.

    Parameters
    ----------
    half_life_days : float, default 30.0
    n_estimators : int, default 400
        Upper bound on boosting rounds (early stopping on validation).
    max_depth : int, default 4
    learning_rate : float, default 0.05
    min_child_weight : float, default 20.0
    subsample, colsample_bytree : float, default 0.8
    monotone : bool, default True
        Constrain engagement features to be increasing.
    horizon_days, target, validation_fraction, calibration,
    exclude_open_touches, firmographics : as :class:`EngagementWeightModel`.
    calibration default ``"isotonic"``.
    shap_rows : int, default 20_000
        Validation rows sampled for ``shap_importance_``.
    n_jobs : int, default 2
    random_state : int, default 0

    Attributes
    ----------
    booster_ : xgboost.Booster
    feature_names_ : list of str
    shap_importance_ : DataFrame (``feature``, ``mean_abs_shap``), largest first
    best_iteration_ : int
    calibrator_, signals_, fit_seconds_
    """

    def __init__(
        self,
        *,
        half_life_days: float = 30.0,
        n_estimators: int = 400,
        max_depth: int = 4,
        learning_rate: float = 0.05,
        min_child_weight: float = 20.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        monotone: bool = True,
        horizon_days: float = 90,
        target: str = "opportunity_created",
        validation_fraction: float = 0.3,
        calibration: str = "isotonic",
        exclude_open_touches: bool = True,
        firmographics: bool = True,
        shap_rows: int = 20_000,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.half_life_days = half_life_days
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.monotone = monotone
        self.horizon_days = horizon_days
        self.target = target
        self.validation_fraction = validation_fraction
        self.calibration = calibration
        self.exclude_open_touches = exclude_open_touches
        self.firmographics = firmographics
        self.shap_rows = shap_rows
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _features(self, enc: D.Encoded, queries: np.ndarray, levels=None):
        spec = D.ExposureSpec(
            float(self.half_life_days), np.ones(len(BUYING_ROLES)), np.ones(len(SENIORITIES)),
            1.0, 1.0, bool(self.exclude_open_touches),
        )
        E = np.log1p(D.exposure_panel(enc, queries, spec))  # (K, A, S)
        # per-role decayed engagement: group touches by role (anonymous last)
        keep = enc.signal >= 0
        if self.exclude_open_touches:
            keep &= ~enc.open_at_touch
        R = len(BUYING_ROLES) + 1
        role = np.where(enc.role >= 0, enc.role, R - 1)[keep]
        Rr = D.decayed_sums(
            enc.t[keep], enc.account[keep] * R + role, np.ones(int(keep.sum())),
            enc.n_accounts * R, queries, float(self.half_life_days),
        ).reshape(len(queries), enc.n_accounts, R)
        Rr = np.log1p(Rr)
        Xt, tnames = D.tier_design(enc.tier)
        if self.firmographics:
            Xf, fnames, levels = D.firmographic_design(enc.accounts_frame, levels)
            Xc, cnames = np.hstack([Xf, Xt]), fnames + tnames
        else:
            Xc, cnames, levels = Xt, tnames, {}
        names = (
            [f"signal__{D.slug(s)}" for s in enc.signals]
            + [f"role__{r}" for r in BUYING_ROLES] + ["role__anonymous"] + cnames
        )
        n_eng = E.shape[2] + R
        return E, Rr, Xc, names, n_eng, levels

    @staticmethod
    def _rows(E, Rr, Xc, k, a) -> np.ndarray:
        return np.hstack([E[k, a], Rr[k, a], Xc[a]]).astype(np.float32)

    def fit(self, tables: Mapping[str, pd.DataFrame], as_of_dates: Any) -> XGBEngagementModel:
        """Grow the trees on the training dates; calibrate and explain on validation."""
        import xgboost as xgb

        who = type(self).__name__
        t0 = time.perf_counter()
        D.check_target(self.target, who)
        D.check_positive(self.half_life_days, "half_life_days", who)
        D.check_positive(self.horizon_days, "horizon_days", who)
        D.check_positive(self.n_estimators, "n_estimators", who, integer=True)
        check_calibration(self.calibration, who)
        rng = np.random.default_rng(self.random_state)
        enc = D.encode(tables, who)
        queries = D.dates_ns(as_of_dates, who)
        D.check_dates_in_data(enc, queries, self.horizon_days, who)
        y, risk = D.labels_and_risk(enc, queries, self.horizon_days, self.target)
        tr_k, va_k = time_split(queries, self.validation_fraction, self.horizon_days, who)
        k_all, a_all = np.nonzero(risk)
        tr, va = np.isin(k_all, tr_k), np.isin(k_all, va_k)
        require_positives(y[k_all[tr], a_all[tr]], "training", who, self.target)
        require_positives(y[k_all[va], a_all[va]], "validation", who, self.target)
        E, Rr, Xc, names, n_eng, levels = self._features(enc, queries)
        Xtr = self._rows(E, Rr, Xc, k_all[tr], a_all[tr])
        Xva = self._rows(E, Rr, Xc, k_all[va], a_all[va])
        ytr, yva = y[k_all[tr], a_all[tr]], y[k_all[va], a_all[va]]
        mono = [1 if (self.monotone and j < n_eng) else 0 for j in range(len(names))]
        params = {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            "max_depth": int(self.max_depth),
            "eta": float(self.learning_rate),
            "min_child_weight": float(self.min_child_weight),
            "subsample": float(self.subsample),
            "colsample_bytree": float(self.colsample_bytree),
            "monotone_constraints": "(" + ",".join(map(str, mono)) + ")",
            "nthread": int(self.n_jobs),
            "seed": int(self.random_state),
        }
        dtr = xgb.DMatrix(Xtr, label=ytr, feature_names=names)
        dva = xgb.DMatrix(Xva, label=yva, feature_names=names)
        booster = xgb.train(
            params, dtr, num_boost_round=int(self.n_estimators), evals=[(dva, "validation")],
            early_stopping_rounds=30, verbose_eval=False,
        )
        self.booster_ = booster
        self.best_iteration_ = int(booster.best_iteration)
        margin = booster.predict(dva, output_margin=True, iteration_range=(0, self.best_iteration_ + 1))
        self.calibrator_ = Calibrator(self.calibration).fit(margin, yva)
        n_shap = min(len(yva), int(self.shap_rows))
        idx = np.sort(rng.choice(len(yva), size=n_shap, replace=False))
        contrib = booster.predict(
            xgb.DMatrix(Xva[idx], feature_names=names), pred_contribs=True,
            iteration_range=(0, self.best_iteration_ + 1),
        )[:, :-1]
        self.shap_importance_ = (
            pd.DataFrame({"feature": names, "mean_abs_shap": np.abs(contrib).mean(axis=0)})
            .sort_values("mean_abs_shap", ascending=False)
            .reset_index(drop=True)
        )
        self.feature_names_ = names
        self.signals_ = enc.signals
        self.firmographic_levels_ = levels
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _decision(self, enc: D.Encoded, queries: np.ndarray) -> np.ndarray:
        import xgboost as xgb

        E, Rr, Xc, names, _, _ = self._features(enc, queries, self.firmographic_levels_)
        K, A = E.shape[:2]
        k, a = np.divmod(np.arange(K * A), A)
        X = self._rows(E, Rr, Xc, k, a)
        m = self.booster_.predict(
            xgb.DMatrix(X, feature_names=names), output_margin=True,
            iteration_range=(0, self.best_iteration_ + 1),
        )
        return m.reshape(K, A).astype(np.float64)
