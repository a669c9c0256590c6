"""The references a learned score is judged against: hand-set points and the oracle.

Hand-set baseline (what marketing operations sets today)
    .. math::

        f(a, T) = \\kappa_{tier(a)} \\sum_i P_{s_i} m_{r_i} n_{q_i}
            2^{-(T - t_i)/h}

    points ``P_s`` per signal, role and seniority multipliers, an optional
    decay half-life ``h`` and tier multipliers ``kappa``, read from
    ``configs/baseline_engagement_weights.yaml``. Linear in touches: no
    diminishing returns.

Oracle (synthetic data only)
    The generator's weekly hazard logit with its planted parameters
    (``ground_truth``):
    ``b_0 + b_size size_a + b_fit fit_a + a_tier + sum_s w_s log(1 + E_as(T))``
    with the planted half-life, multipliers and reset on close.

Both are scored by the same pipeline as the learned models (same exposures,
same at-risk rows, same metrics); ``fit`` only attaches a calibrator of the
decision value, fitted on the given as-of dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.contracts import ABM_TIERS, BUYING_ROLES, SENIORITIES
from features.errors import ConfigError, InputFileError

from . import _data as D
from ._base import Calibrator, EngagementScorerMixin, check_calibration, require_positives

__all__ = ["HandSetBaseline", "OracleModel"]


def _fit_calibrator(model: Any, tables: Mapping[str, pd.DataFrame], as_of_dates: Any) -> None:
    who = type(model).__name__
    D.check_target(model.target, who)
    D.check_positive(model.horizon_days, "horizon_days", who)
    check_calibration(model.calibration, who)
    model.signals_ = model._signals()
    enc = D.encode(tables, who, signals=model.signals_)
    queries = D.dates_ns(as_of_dates, who)
    D.check_dates_in_data(enc, queries, model.horizon_days, who)
    y, risk = D.labels_and_risk(enc, queries, model.horizon_days, model.target)
    require_positives(y[risk], "calibration", who, model.target)
    f = model._decision(enc, queries)
    model.calibrator_ = Calibrator(model.calibration).fit(f[risk], y[risk])


def _mapping(values: Any, keys: tuple[str, ...] | None, what: str, who: str) -> dict[str, float]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"{who}: {what} must be a mapping, got {type(values).__name__}")
    out = {}
    for k, v in values.items():
        if keys is not None and k not in keys:
            raise ConfigError(f"{who}: {what} names unknown key {k!r}; expected one of {list(keys)}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
            raise ConfigError(f"{who}: {what}[{k!r}] must be a number >= 0, got {v!r}")
        out[str(k)] = float(v)
    return out


class HandSetBaseline(EngagementScorerMixin):
    """Hand-set engagement points (an engagement-minutes style table).

    Parameters
    ----------
    points : dict of str to float
        Points per touch of each signal; signals not listed score 0.
    role_multipliers, seniority_multipliers : dict of str to float, optional
        Multipliers of a touch by the contact's buying role and seniority
        (missing keys: 1).
    anonymous_multiplier : float, default 1.0
        Multiplier of a touch without contact.
    half_life_days : float or None, default None
        Decay half-life; ``None`` means no decay (all history counts fully).
    tier_multipliers : dict of str to float, optional
        Multiplier of the account's total by ABM tier (missing: 1).
    horizon_days, target : as :class:`EngagementWeightModel`.
    calibration : {"isotonic", "sigmoid"}, default "isotonic"
        Map from points to probability, fitted by :meth:`fit`.
    """

    def __init__(
        self,
        *,
        points: Mapping[str, float] | None = None,
        role_multipliers: Mapping[str, float] | None = None,
        seniority_multipliers: Mapping[str, float] | None = None,
        anonymous_multiplier: float = 1.0,
        half_life_days: float | None = None,
        tier_multipliers: Mapping[str, float] | None = None,
        horizon_days: float = 90,
        target: str = "opportunity_created",
        calibration: str = "isotonic",
    ) -> None:
        self.points = points
        self.role_multipliers = role_multipliers
        self.seniority_multipliers = seniority_multipliers
        self.anonymous_multiplier = anonymous_multiplier
        self.half_life_days = half_life_days
        self.tier_multipliers = tier_multipliers
        self.horizon_days = horizon_days
        self.target = target
        self.calibration = calibration

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> HandSetBaseline:
        """Read the baseline table (``configs/baseline_engagement_weights.yaml``)."""
        import yaml

        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputFileError(
                f"cannot read the baseline weights {path}: {exc.strerror}; pass the path "
                f"of configs/baseline_engagement_weights.yaml"
            ) from exc
        try:
            cfg = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
        allowed = {
            "points", "role_multipliers", "seniority_multipliers", "anonymous_multiplier",
            "half_life_days", "tier_multipliers",
        }
        extra = sorted(set(cfg) - allowed - {"description", "version"})
        if extra:
            raise ConfigError(
                f"{path}: unknown key(s) {extra}; expected {sorted(allowed)}"
            )
        if not cfg.get("points"):
            raise ConfigError(f"{path}: 'points' (points per signal) is missing or empty")
        params = {k: cfg[k] for k in allowed if k in cfg}
        params.update(overrides)
        return cls(**params)

    def _signals(self) -> tuple[str, ...]:
        who = type(self).__name__
        pts = _mapping(self.points, None, "points", who)
        if not pts:
            raise ConfigError(f"{who}: points is empty; give points per signal")
        return tuple(sorted(pts))

    def fit(self, tables: Mapping[str, pd.DataFrame], as_of_dates: Any) -> HandSetBaseline:
        """Attach the calibrator of the points (nothing else is learned)."""
        who = type(self).__name__
        _mapping(self.role_multipliers, BUYING_ROLES, "role_multipliers", who)
        _mapping(self.seniority_multipliers, SENIORITIES, "seniority_multipliers", who)
        _mapping(self.tier_multipliers, ABM_TIERS, "tier_multipliers", who)
        if self.half_life_days is not None:
            D.check_positive(self.half_life_days, "half_life_days", who)
        _fit_calibrator(self, tables, as_of_dates)
        return self

    def _decision(self, enc: D.Encoded, queries: np.ndarray) -> np.ndarray:
        who = type(self).__name__
        pts = _mapping(self.points, None, "points", who)
        role = _mapping(self.role_multipliers, BUYING_ROLES, "role_multipliers", who)
        sen = _mapping(self.seniority_multipliers, SENIORITIES, "seniority_multipliers", who)
        tier = _mapping(self.tier_multipliers, ABM_TIERS, "tier_multipliers", who)
        h = 1e9 if self.half_life_days is None else float(self.half_life_days)
        spec = D.ExposureSpec(
            h,
            np.array([role.get(r, 1.0) for r in BUYING_ROLES]),
            np.array([sen.get(q, 1.0) for q in SENIORITIES]),
            float(self.anonymous_multiplier),
            1.0,
            False,
        )
        E = D.exposure_panel(enc, queries, spec)
        P = np.array([pts[s] for s in enc.signals])
        kappa = np.array([tier.get(t, 1.0) for t in ABM_TIERS])[enc.tier]
        return (E @ P) * kappa[None, :]


class OracleModel(EngagementScorerMixin):
    """The generator's planted hazard logit, scored like any other model.

    Build it with :meth:`from_ground_truth`; parameters mirror
    ``ground_truth`` (see :mod:`features.synthetic._params`).
    """

    def __init__(
        self,
        *,
        signal_weights: Mapping[str, float],
        half_life_days: float = 30.0,
        role_multipliers: Mapping[str, float] | None = None,
        seniority_multipliers: Mapping[str, float] | None = None,
        anonymous_multiplier: float = 1.0,
        intercept: float = 0.0,
        size_coef: float = 0.0,
        fit_coef: float = 0.0,
        tier_log_odds: Mapping[str, float] | None = None,
        fit_maps: Mapping[str, Mapping[str, float]] | None = None,
        size_center: float = 8.0,
        size_scale: float = 0.8,
        reset_on_close: float = 1.0,
        exclude_open_touches: bool = False,
        horizon_days: float = 90,
        target: str = "opportunity_created",
        calibration: str = "sigmoid",
    ) -> None:
        self.signal_weights = signal_weights
        self.half_life_days = half_life_days
        self.role_multipliers = role_multipliers
        self.seniority_multipliers = seniority_multipliers
        self.anonymous_multiplier = anonymous_multiplier
        self.intercept = intercept
        self.size_coef = size_coef
        self.fit_coef = fit_coef
        self.tier_log_odds = tier_log_odds
        self.fit_maps = fit_maps
        self.size_center = size_center
        self.size_scale = size_scale
        self.reset_on_close = reset_on_close
        self.exclude_open_touches = exclude_open_touches
        self.horizon_days = horizon_days
        self.target = target
        self.calibration = calibration

    @classmethod
    def from_ground_truth(cls, ground_truth: Mapping[str, Any], **overrides: Any) -> OracleModel:
        """The oracle of a :func:`features.synthetic.generate_dataset` run."""
        try:
            gt = ground_truth
            fm = gt["firmographics"]
            params = dict(
                signal_weights=dict(gt["signal_weights"]),
                half_life_days=float(gt["decay_half_life_days"]),
                role_multipliers=dict(gt["role_multipliers"]),
                seniority_multipliers=dict(gt["seniority_multipliers"]),
                anonymous_multiplier=float(gt["anonymous_multiplier"]),
                intercept=float(gt["hazard"]["intercept"]),
                size_coef=float(gt["hazard"]["size"]),
                fit_coef=float(gt["hazard"]["fit"]),
                tier_log_odds={t: float(v["creation_log_odds"]) for t, v in gt["abm_effects"].items()},
                fit_maps={
                    "industry": dict(fm["industry_fit"]),
                    "region": dict(fm["region_fit"]),
                    "business_unit": dict(fm["business_unit_fit"]),
                },
                size_center=float(fm["size_center"]),
                size_scale=float(fm["size_scale"]),
                reset_on_close=float(gt["hazard"].get("reset_on_close", 1.0)),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(
                f"OracleModel.from_ground_truth: ground_truth lacks {exc}; pass "
                f"generate_dataset(...).ground_truth (or its ground_truth.json)"
            ) from None
        params.update(overrides)
        return cls(**params)

    def _signals(self) -> tuple[str, ...]:
        return tuple(self.signal_weights)

    def fit(self, tables: Mapping[str, pd.DataFrame], as_of_dates: Any) -> OracleModel:
        """Attach the calibrator of the planted linear predictor."""
        _fit_calibrator(self, tables, as_of_dates)
        return self

    def _decision(self, enc: D.Encoded, queries: np.ndarray) -> np.ndarray:
        role = self.role_multipliers or {}
        sen = self.seniority_multipliers or {}
        spec = D.ExposureSpec(
            float(self.half_life_days),
            np.array([role.get(r, 1.0) for r in BUYING_ROLES]),
            np.array([sen.get(q, 1.0) for q in SENIORITIES]),
            float(self.anonymous_multiplier),
            float(self.reset_on_close),
            bool(self.exclude_open_touches),
        )
        E = D.exposure_panel(enc, queries, spec)
        w = np.array([self.signal_weights[s] for s in enc.signals])
        acc = enc.accounts_frame
        rev = pd.to_numeric(acc["annual_revenue"], errors="coerce").to_numpy(float) \
            if "annual_revenue" in acc.columns else np.full(len(acc), np.nan)
        ok = np.isfinite(rev) & (rev > 0)
        size = np.zeros(len(acc))
        size[ok] = (np.log10(rev[ok]) - self.size_center) / self.size_scale
        fit = np.zeros(len(acc))
        for col, mp in (self.fit_maps or {}).items():
            if col in acc.columns:
                fit += acc[col].map(dict(mp)).fillna(0.0).to_numpy(float)
        tier = np.array([(self.tier_log_odds or {}).get(t, 0.0) for t in ABM_TIERS])[enc.tier]
        base = self.intercept + self.size_coef * size + self.fit_coef * fit + tier
        return np.log1p(E) @ w + base[None, :]
