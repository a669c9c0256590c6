r"""Data-driven attribution: a conversion classifier explained by SHAP values.

The classifier
--------------
Every journey (a path of the path table, counted ``total_conversions`` times
with label 1 and ``total_null`` times with label 0) is described by ``G``
features per channel :math:`k` (channel-major columns, ``F = G K``):

``presence``  :math:`1[n_{ik} > 0]`, the channel touched the journey;
``count``     :math:`\log(1 + n_{ik})`, :math:`n_{ik}` its number of touches;
``first``     :math:`1[\text{first touch of } i \text{ is } k]`;
``last``      :math:`1[\text{last touch of } i \text{ is } k]`;
``recency``   (journey tables only, :meth:`fit_journeys`): the decayed
              exposure :math:`\sum_{t \in i, c_t = k} 2^{-d_t / h}`, with
              :math:`d_t` the days from the touch to the journey's end (its
              conversion, or ``observation_end`` for a non-converting one)
              and :math:`h` = ``half_life_days``.

Journeys are never expanded: a path is one row per observed outcome with the
count as ``sample_weight``. A binary classifier :math:`f(x) =
\operatorname{logit} P(y = 1 \mid x)` is fitted in one of two flavours:

* :class:`DataDrivenLR` (``data_driven_lr``): bagged L2 logistic
  regression in the spirit of Shao and Li (2011). Each of ``n_estimators``
  bags keeps a ``max_samples`` share of the journeys (binomial thinning of
  every count) and is fitted exactly by Newton's method on

  .. math:: \sum_i w_i \big(\log(1 + e^{\eta_i}) - y_i \eta_i\big)
            + \tfrac{1}{2C} \lVert\beta\rVert^2,\quad \eta_i = \beta_0 + x_i^\top\beta;

  the coefficients are averaged over the bags. (Shao and Li also subsample
  covariates; we do not, because a random draw of columns would make the
  credits depend on how channels are named, which the shared contract
  forbids.)
* :class:`DataDrivenXGB` (``data_driven``, the default): gradient-boosted
  trees (XGBoost, ``binary:logistic``).

Credit from SHAP values
-----------------------
SHAP values :math:`\phi_{if}` decompose the margin of journey :math:`i`,
:math:`f(x_i) = E[f] + \sum_f \phi_{if}` (Lundberg and Lee, 2017). For the
logistic regression they are exact and closed-form,
:math:`\phi_{if} = \beta_f (x_{if} - \bar x_f)` with :math:`\bar x` the
journey-weighted mean (independent features); for the trees, exact TreeSHAP
(Lundberg et al., 2020) as computed by XGBoost (``pred_contribs=True``).
A channel's contribution is the sum over its features,
:math:`\phi_{ik} = \sum_{f \in k} \phi_{if}`.

Each converting journey distributes its conversions :math:`c_i` (and value
:math:`v_i`) over the channels **it touched**, :math:`T_i`, in proportion to
their positive contributions:

.. math:: \text{credit}_k = \sum_i c_i\,
          \frac{\max(\phi_{ik}, 0)}{\sum_{j \in T_i} \max(\phi_{ij}, 0)}
          \quad (k \in T_i),

so credits are non-negative and sum to the total conversions (value alike).
Negative contributions are **clipped**; the share of the absolute
contribution mass of touched channels that was clipped is reported as
``metrics_["clipped_share"]``. Channels not touched by a journey get none of
its credit (their absence may still move its prediction). A journey in which
no touched channel has a positive contribution (e.g. a one-channel world,
where the classifier cannot contrast channels) splits its conversion equally
over its distinct channels; the share of conversions credited this way is
``metrics_["fallback_share"]``.

Held-out metrics
----------------
Before the final fit, journeys are split by seeded binomial thinning of each
(path, outcome) count (a fraction ``holdout`` held out; fractional counts
keep their fractional part with the same probability). A classifier fitted
on the rest is scored on the held-out journeys: weighted log-loss, ROC AUC
and the log-loss of the training base rate for comparison, in ``metrics_``
and ``result_.attrs["metrics"]``. The credits come from a classifier refitted
on all journeys. ``holdout=None`` skips this step; bootstrap replicates
(``ci``) refit the classifier on every replicate and skip it too.

Invariance to channel names and row order
-----------------------------------------
Channels are put in a canonical order that does not depend on their names:
colour refinement (1-dimensional Weisfeiler-Leman) over the path table,
with 64-bit hashes of each channel's occurrences (position, path length,
path counts, the colours of the other touches of the path), three rounds.
Paths are sorted by their final hash. The classifier then sees the same
matrix whatever the names or row order, so trees, bags and splits are the
same. Channels that remain indistinguishable after refinement (same colour;
in real data only channels that play exactly symmetric roles) share their
total credit equally.

References
----------
Shao, X. and Li, L. (2011). Data-driven multi-touch attribution models.
*Proceedings of the 17th ACM SIGKDD*, 258-264.
Lundberg, S. M. and Lee, S.-I. (2017). A unified approach to interpreting
model predictions. *NeurIPS* 30.
Lundberg, S. M., Erion, G., Chen, H. et al. (2020). From local explanations
to global understanding with explainable AI for trees. *Nature Machine
Intelligence* 2, 56-67.
Chen, T. and Guestrin, C. (2016). XGBoost: a scalable tree boosting system.
*KDD* 2016, 785-794.
Shervashidze, N. et al. (2011). Weisfeiler-Lehman graph kernels. *JMLR* 12,
2539-2561 (colour refinement).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import expit

from attribution._base import AttributionModel, check_positive
from attribution._bootstrap import check_ci
from attribution._encoding import EncodedPaths, require_columns
from features.dates import to_utc
from features.errors import ConfigError, DataValidationError

__all__ = ["DataDrivenLR", "DataDrivenXGB", "PATH_FEATURES", "canonical_channel_order"]

logger = logging.getLogger(__name__)

#: feature groups available from a path table (``recency`` needs a journey table)
PATH_FEATURES = ("presence", "count", "first", "last")
_ALL_FEATURES = (*PATH_FEATURES, "recency")

# ----------------------------------------------------------------------------- hashing
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= _C1
        x ^= x >> np.uint64(27)
        x *= _C2
        x ^= x >> np.uint64(31)
    return x


def _pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return _mix(np.asarray(a, dtype=np.uint64) * _GOLD + np.asarray(b, dtype=np.uint64))


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)


def canonical_channel_order(
    enc: EncodedPaths, rounds: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Name-independent order of channels and paths (colour refinement).

    Parameters
    ----------
    enc : encoded path table.
    rounds : refinement rounds.

    Returns
    -------
    rank : (K,) int64, canonical position of each channel code.
    colour : (K,) uint64, final colour of each channel code (equal colours =
        indistinguishable channels).
    row_order : (n_paths,) int64, paths in canonical order.
    """
    k = enc.n_channels
    path = enc.path_index
    position = (np.arange(len(enc.codes), dtype=np.int64) - enc.offsets[:-1][path]).astype(np.uint64)
    lengths = enc.lengths.astype(np.uint64)
    outcome = _pair(_pair(_pair(_bits(enc.conversions), _bits(enc.nulls)), _bits(enc.values)), lengths)
    colour = np.zeros(k, dtype=np.uint64)
    starts = enc.offsets[:-1]
    by_channel = np.argsort(enc.codes, kind="stable")
    channel_starts = np.searchsorted(enc.codes[by_channel], np.arange(k))
    path_hash = outcome
    for _ in range(rounds):
        touch = _pair(colour[enc.codes], position)
        with np.errstate(over="ignore"):
            path_hash = _pair(outcome, np.add.reduceat(touch, starts))
            occurrence = _pair(path_hash[path], position)[by_channel]
            total = np.add.reduceat(occurrence, channel_starts) if len(occurrence) else np.zeros(k, np.uint64)
        colour = _pair(colour, total)
    rank = np.empty(k, dtype=np.int64)
    rank[np.lexsort((np.arange(k), colour))] = np.arange(k)
    row_order = np.lexsort((np.arange(enc.n_paths), path_hash))
    return rank, colour, row_order


# ----------------------------------------------------------------------------- design
@dataclass(frozen=True)
class _Prep:
    """Structure of one fit: canonical features and the maps back."""

    X: np.ndarray  # (n, F) float64, rows and channels in canonical order
    presence: np.ndarray  # (n, K) bool, canonical channels
    row_order: np.ndarray  # (n,) canonical row -> original path
    rank: np.ndarray  # (K,) original code -> canonical channel
    group: np.ndarray  # (K,) original code -> tie group id
    n_groups_features: int  # G
    feature_names: tuple[str, ...]


def _thin(counts: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Binomial thinning of (possibly fractional) counts: E = p * counts."""
    whole = np.floor(counts)
    kept = rng.binomial(whole.astype(np.int64), p).astype(np.float64)
    frac = counts - whole
    return kept + frac * (rng.random(len(counts)) < p)


def _design(
    enc: EncodedPaths, features: tuple[str, ...], recency: np.ndarray | None = None
) -> _Prep:
    rank, colour, row_order = canonical_channel_order(enc)
    k, n = enc.n_channels, enc.n_paths
    inverse = np.empty(n, dtype=np.int64)
    inverse[row_order] = np.arange(n)
    path = inverse[enc.path_index]  # canonical row of each touch
    code = rank[enc.codes]
    counts = np.bincount(path * k + code, minlength=n * k).reshape(n, k)
    blocks = []
    for name in features:
        if name == "presence":
            block = (counts > 0).astype(np.float64)
        elif name == "count":
            block = np.log1p(counts.astype(np.float64))
        elif name in ("first", "last"):
            at = enc.offsets[:-1] if name == "first" else enc.offsets[1:] - 1
            block = np.zeros((n, k))
            block[inverse, rank[enc.codes[at]]] = 1.0
        else:  # recency: (n_touches,) decayed weights given by fit_journeys
            assert recency is not None
            block = np.bincount(path * k + code, weights=recency, minlength=n * k).reshape(n, k)
        blocks.append(block)
    X = np.stack(blocks, axis=2).reshape(n, k * len(features))  # channel-major
    _, group = np.unique(colour, return_inverse=True)
    names = tuple(f"{name}[{c}]" for c in range(k) for name in features)
    return _Prep(X, counts > 0, row_order, rank, group.reshape(-1), len(features), names)


def _stack(X: np.ndarray, conv: np.ndarray, null: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with a positive weight: label-1 rows then label-0 rows."""
    pos = np.flatnonzero(conv > 0)
    neg = np.flatnonzero(null > 0)
    rows = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    w = np.concatenate([conv[pos], null[neg]])
    return rows, y, w


def _weighted_log_loss(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-(w * (y * np.log(p) + (1 - y) * np.log1p(-p))).sum() / w.sum())


def _weighted_auc(y: np.ndarray, score: np.ndarray, w: np.ndarray) -> float:
    """ROC AUC with sample weights, ties counted one half (Mann-Whitney)."""
    pos_w, neg_w = w * (y == 1), w * (y == 0)
    if pos_w.sum() <= 0 or neg_w.sum() <= 0:
        return float("nan")
    uniq, inv = np.unique(score, return_inverse=True)
    p = np.bincount(inv, weights=pos_w, minlength=len(uniq))
    q = np.bincount(inv, weights=neg_w, minlength=len(uniq))
    below = np.cumsum(q) - q
    return float((p * (below + 0.5 * q)).sum() / (p.sum() * q.sum()))


# ----------------------------------------------------------------------------- the model
class _DataDriven(AttributionModel):
    """Shared machinery (module docstring); subclasses supply the classifier."""

    flavour: ClassVar[str] = ""

    # -- classifier interface (subclasses) -----------------------------------
    def _fit_classifier(self, X, y, w, seed) -> Any:
        raise NotImplementedError

    def _margin(self, clf, X) -> np.ndarray:
        raise NotImplementedError

    def _contributions(self, clf, X, background_mean) -> np.ndarray:
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------
    def _check_features(self) -> tuple[str, ...]:
        feats = self.features
        if isinstance(feats, str):
            feats = (feats,)
        feats = tuple(feats)
        bad = [f for f in feats if f not in _ALL_FEATURES]
        if not feats or bad or len(set(feats)) != len(feats):
            raise ConfigError(
                f"{self.name}: features={self.features!r} must be distinct names from "
                f"{', '.join(_ALL_FEATURES)} ('recency' only with fit_journeys)"
            )
        return feats

    def _check_common(self) -> None:
        self._check_features()
        if self.holdout is not None and not (
            isinstance(self.holdout, (int, float)) and not isinstance(self.holdout, bool) and 0 < self.holdout < 1
        ):
            raise ConfigError(f"{self.name}: holdout={self.holdout!r} must be in (0, 1) or None")

    def _prepare(self, enc: EncodedPaths) -> _Prep:
        feats = self._check_features()
        if "recency" in feats:
            raise ConfigError(
                f"{self.name}: the 'recency' feature needs touch times; use fit_journeys(touches) "
                "or drop it from features"
            )
        return _design(enc, feats)

    def _seeds(self) -> tuple[int, int]:
        rng = np.random.default_rng(self.random_state)
        split, fit = rng.integers(0, 2**62, size=2)
        return int(split), int(fit)

    def _explain(self, prep: _Prep, conversions, nulls, values, seed: int) -> dict[str, Any]:
        """Fit on all journeys, SHAP contributions, credits (original codes)."""
        order = prep.row_order
        conv, null, value = conversions[order], nulls[order], values[order]
        rows, y, w = _stack(prep.X, conv, null)
        X = prep.X
        live = np.flatnonzero(conv > 0)
        k = prep.presence.shape[1]
        degenerate = y.min() == y.max()
        clf = None
        if degenerate:  # one outcome only: nothing to contrast, every SHAP value is 0
            phi = np.zeros((len(live), k))
        else:
            clf = self._fit_classifier(X[rows], y, w, seed)
            mean = np.average(X[rows], axis=0, weights=w)
            contrib = self._contributions(clf, X[live], mean)
            phi = contrib.reshape(len(live), k, prep.n_groups_features).sum(axis=2)
        touched = prep.presence[live]
        positive = np.where(touched, np.maximum(phi, 0.0), 0.0)
        denom = positive.sum(axis=1)
        fallback = denom <= 0
        positive[fallback] = touched[fallback]
        frac = positive / positive.sum(axis=1, keepdims=True)
        credit_conv = conv[live] @ frac
        credit_value = value[live] @ frac
        # back to original codes, indistinguishable channels share equally
        credit_conv, credit_value = credit_conv[prep.rank], credit_value[prep.rank]
        size = np.bincount(prep.group)
        for arr in (credit_conv, credit_value):
            arr[:] = (np.bincount(prep.group, weights=arr) / size)[prep.group]
        mass = np.abs(np.where(touched, phi, 0.0))
        negative = np.where(touched, np.minimum(phi, 0.0), 0.0)
        total_mass = float(conv[live] @ mass.sum(axis=1))
        return {
            "credit": (credit_conv, credit_value),
            "classifier": clf,
            "clipped_share": float(-(conv[live] @ negative.sum(axis=1)) / total_mass) if total_mass > 0 else 0.0,
            "fallback_share": float(conv[live][fallback].sum() / conv[live].sum()),
            "channel_contributions": phi,
        }

    def _credit(self, prep, conversions, nulls, values):
        return self._explain(prep, conversions, nulls, values, self._fit_seed)["credit"]

    def _point_credit(self, prep, conversions, nulls, values):
        split_seed, self._fit_seed = self._seeds()
        metrics: dict[str, float] = {}
        if self.holdout is not None:
            metrics.update(self._holdout_metrics(prep, conversions, nulls, split_seed))
        out = self._explain(prep, conversions, nulls, values, self._fit_seed)
        metrics["clipped_share"] = out["clipped_share"]
        metrics["fallback_share"] = out["fallback_share"]
        self.metrics_ = metrics
        self.classifier_ = out["classifier"]
        self.feature_names_ = self._feature_names(prep)
        return out["credit"]

    def _feature_names(self, prep: _Prep) -> list[str]:
        """Feature names in the classifier's (canonical) column order."""
        canonical = np.empty_like(prep.rank)
        canonical[prep.rank] = np.arange(len(prep.rank))
        names = []
        for f in prep.feature_names:
            kind, _, c = f.partition("[")
            names.append(f"{kind}[{self._channels_for_names[canonical[int(c[:-1])]]}]")
        return names

    def _holdout_metrics(self, prep: _Prep, conversions, nulls, seed: int) -> dict[str, float]:
        rng = np.random.default_rng(seed)
        conv, null = conversions[prep.row_order], nulls[prep.row_order]
        held_c, held_u = _thin(conv, float(self.holdout), rng), _thin(null, float(self.holdout), rng)
        rows, y, w = _stack(prep.X, conv - held_c, null - held_u)
        hrows, hy, hw = _stack(prep.X, held_c, held_u)
        out = {"holdout_journeys": float(hw.sum()), "train_journeys": float(w.sum())}
        nan = float("nan")
        if len(hy) == 0 or len(y) == 0 or y.min() == y.max():
            return {**out, "holdout_log_loss": nan, "holdout_auc": nan, "holdout_base_log_loss": nan}
        clf = self._fit_classifier(prep.X[rows], y, w, self._fit_seed)
        p = expit(self._margin(clf, prep.X[hrows]))
        base = np.full(len(hy), np.average(y, weights=w))
        out["holdout_log_loss"] = _weighted_log_loss(hy, p, hw)
        out["holdout_auc"] = _weighted_auc(hy, p, hw)
        out["holdout_base_log_loss"] = _weighted_log_loss(hy, base, hw)
        return out

    def _fit_prepared(self, prep, channels, conversions, nulls, values):
        self._channels_for_names = tuple(channels)
        try:
            super()._fit_prepared(prep, channels, conversions, nulls, values)
        finally:
            del self._channels_for_names
        self.result_.attrs["metrics"] = dict(self.metrics_)

    # -- journey tables ---------------------------------------------------------
    def fit_journeys(
        self,
        touches: pd.DataFrame,
        *,
        observation_end: Any = None,
        half_life_days: float = 30.0,
        journey_col: str = "journey_id",
        channel_col: str = "channel",
        time_col: str = "timestamp",
        days_col: str = "days_to_conversion",
        converted_col: str = "converted",
        value_col: str | None = "conversion_value",
    ) -> "_DataDriven":
        """Fit on a journey-level touch table, with the ``recency`` feature.

        Parameters
        ----------
        touches : DataFrame, one row per touch in journey order
            (:attr:`features.journeys.Journeys.touches`): ``journey_id``,
            ``channel``, ``timestamp`` (tz-aware), ``days_to_conversion``
            (converting journeys), ``converted``, ``conversion_value``.
        observation_end : timestamp-like, optional
            End of observation; the reference time of non-converting journeys
            (``Journeys.stats.observation_end``). Default: the latest
            timestamp in ``touches``.
        half_life_days : float, default 30
            Half-life of the recency feature (module docstring).
        journey_col, channel_col, time_col, days_col, converted_col, value_col
            Column names; ``value_col=None`` takes value = conversions.

        Returns
        -------
        self. Each journey is a path of count 1; ``features`` gains
        ``recency`` if it was not listed.
        """
        self._check_params()
        check_ci(self.ci, self.n_boot, self.name)
        check_positive(self.name, half_life_days=half_life_days)
        require_columns(
            touches, "journey", [c for c in (journey_col, channel_col, time_col, days_col, converted_col, value_col) if c],
            self.name,
        )
        if len(touches) == 0:
            raise DataValidationError(f"{self.name}: the journey table is empty; nothing to attribute")
        journey, _ = pd.factorize(touches[journey_col], use_na_sentinel=False)
        order = np.argsort(journey, kind="stable")
        journey = journey[order]
        rows = touches.iloc[order]
        names = rows[channel_col].astype(str).str.strip()
        if (names == "").any() or rows[channel_col].isna().any():
            raise DataValidationError(f"{self.name}: column {channel_col!r} has an empty channel name")
        codes, channels = pd.factorize(names, sort=True)
        n = int(journey.max()) + 1
        converted_row = pd.to_numeric(rows[converted_col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isin(converted_row, (0.0, 1.0)).all():
            raise DataValidationError(f"{self.name}: column {converted_col!r} must be 0/1 or boolean")
        converted = np.zeros(n)
        np.maximum.at(converted, journey, converted_row)
        if converted.sum() <= 0:
            raise DataValidationError(f"{self.name}: no journey converted; there is nothing to credit")
        if value_col is None:
            value = converted.copy()
        else:
            v = pd.to_numeric(rows[value_col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            value = np.zeros(n)
            np.maximum.at(value, journey, np.where(np.isfinite(v), v, 0.0))
            value *= converted > 0
        times = pd.to_datetime(rows[time_col], utc=True)
        end = to_utc(observation_end, f"{self.name}: observation_end") if observation_end is not None else times.max()
        days_to_end = ((end - times).dt.total_seconds() / 86400.0).to_numpy(dtype=np.float64)
        days_conv = pd.to_numeric(rows[days_col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        on_conv = converted[journey] > 0
        days = np.where(on_conv, days_conv, days_to_end)
        if (~np.isfinite(days) | (days < -1e-9)).any():
            raise DataValidationError(
                f"{self.name}: {days_col!r} (converting journeys) and {time_col!r} up to observation_end "
                "must give finite days >= 0 for every touch"
            )
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(journey, minlength=n), out=offsets[1:])
        enc = EncodedPaths(tuple(str(c) for c in channels), offsets, codes.astype(np.int32),
                           converted, 1.0 - converted, value)
        feats = self._check_features()
        feats = feats if "recency" in feats else (*feats, "recency")
        prep = _design(enc, feats, recency=np.exp2(-np.maximum(days, 0.0) / float(half_life_days)))
        self._fit_prepared(prep, enc.channels, enc.conversions, enc.nulls, enc.values)
        return self


class DataDrivenLR(_DataDriven):
    """Bagged logistic regression + exact linear SHAP (Shao and Li, 2011).

    See the module docstring for features, credit rule and metrics.

    Parameters
    ----------
    features : tuple of str, default ("presence", "count", "first", "last")
        Feature groups per channel; ``"recency"`` is added by
        :meth:`fit_journeys`.
    n_estimators : int, default 10
        Number of bags.
    max_samples : float, default 0.5
        Share of journeys kept in each bag (binomial thinning).
    C : float, default 1.0
        Inverse L2 strength (scikit-learn convention: the penalty is
        ``||beta||^2 / (2 C)`` next to the count-weighted log-loss).
    holdout : float or None, default 0.2
        Held-out share of journeys for ``metrics_``; ``None`` skips it.
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`;
        ``random_state`` also seeds the bags and the held-out split.

    Attributes
    ----------
    coef_ : (F,) averaged coefficients, columns ``feature_names_``.
    intercept_ : float
    metrics_ : dict (``holdout_log_loss``, ``holdout_auc``,
        ``holdout_base_log_loss``, ``clipped_share``, ``fallback_share``...).

    References
    ----------
    Shao, X. and Li, L. (2011). Data-driven multi-touch attribution models.
    *KDD* 2011, 258-264.
    """

    name = "data_driven_lr"

    def __init__(
        self,
        *,
        features: tuple[str, ...] = PATH_FEATURES,
        n_estimators: int = 10,
        max_samples: float = 0.5,
        C: float = 1.0,
        holdout: float | None = 0.2,
        ci: float | None = None,
        n_boot: int = 200,
        random_state=None,
    ):
        self.features = features
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.C = C
        self.holdout = holdout
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _check_params(self):
        self._check_common()
        check_positive(self.name, C=self.C)
        if not (isinstance(self.n_estimators, (int, np.integer)) and self.n_estimators >= 1):
            raise ConfigError(f"{self.name}: n_estimators={self.n_estimators!r} must be an integer >= 1")
        if not (isinstance(self.max_samples, (int, float)) and 0 < self.max_samples <= 1):
            raise ConfigError(f"{self.name}: max_samples={self.max_samples!r} must be in (0, 1]")

    def _fit_classifier(self, X, y, w, seed):
        rng = np.random.default_rng(seed)
        coefs = []
        for _ in range(int(self.n_estimators)):
            wb = w if self.max_samples >= 1 else _thin(w, float(self.max_samples), rng)
            keep = wb > 0
            if not keep.any() or y[keep].min() == y[keep].max():
                continue  # a bag with one outcome carries no contrast
            coefs.append(_newton_logistic(X[keep], y[keep], wb[keep], float(self.C)))
        if not coefs:
            coefs.append(_newton_logistic(X, y, w, float(self.C)))
        return np.mean(coefs, axis=0)

    def _margin(self, clf, X):
        return X @ clf[:-1] + clf[-1]

    def _contributions(self, clf, X, background_mean):
        return (X - background_mean) * clf[:-1]

    def _point_credit(self, prep, conversions, nulls, values):
        credit = super()._point_credit(prep, conversions, nulls, values)
        beta = self.classifier_ if self.classifier_ is not None else np.zeros(prep.X.shape[1] + 1)
        self.coef_, self.intercept_ = beta[:-1].copy(), float(beta[-1])
        return credit


def _newton_logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray, C: float,
                     max_iter: int = 100, tol: float = 1e-10) -> np.ndarray:
    """Weighted L2 logistic regression by damped Newton; returns (coef..., intercept)."""
    n, p = X.shape
    Z = np.hstack([X, np.ones((n, 1))])
    lam = np.full(p + 1, 1.0 / C)
    lam[-1] = 0.0
    rate = np.clip(np.average(y, weights=w), 1e-12, 1 - 1e-12)
    beta = np.zeros(p + 1)
    beta[-1] = np.log(rate / (1 - rate))

    def objective(b):
        eta = Z @ b
        return float((w * (np.logaddexp(0.0, eta) - y * eta)).sum() + 0.5 * (lam * b * b).sum())

    f = objective(beta)
    for _ in range(max_iter):
        mu = expit(Z @ beta)
        grad = Z.T @ (w * (mu - y)) + lam * beta
        hess = (Z * (w * mu * (1 - mu))[:, None]).T @ Z + np.diag(lam + 1e-12)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while True:
            candidate = beta - t * step
            f_new = objective(candidate)
            if f_new <= f + 1e-4 * t * -(grad @ step) or t < 1e-10:
                break
            t *= 0.5
        beta, f_old, f = candidate, f, f_new
        if np.max(np.abs(t * step)) <= tol * (1 + np.max(np.abs(beta))) or abs(f_old - f) <= 1e-15 * abs(f):
            break
    return beta


class DataDrivenXGB(_DataDriven):
    """Gradient-boosted trees (XGBoost) + exact TreeSHAP credit (the default).

    See the module docstring for features, credit rule and metrics.

    Parameters
    ----------
    features : tuple of str, default ("presence", "count", "first", "last")
    n_estimators : int, default 200
        Boosting rounds.
    max_depth : int, default 4
    learning_rate : float, default 0.1
    min_child_weight : float, default 1.0
        Minimum hessian (count-weighted) per leaf.
    reg_lambda : float, default 1.0
        L2 penalty on leaf values.
    subsample : float, default 1.0
        Row subsampling per round (seeded).
    n_jobs : int or None, default None
        XGBoost threads (``None``: XGBoost's default).
    holdout : float or None, default 0.2
        Held-out share of journeys for ``metrics_``; ``None`` skips it.
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`;
        ``random_state`` also seeds XGBoost and the held-out split.

    Attributes
    ----------
    classifier_ : xgboost.Booster (None if only one outcome was observed).
    feature_names_ : column names of the booster's features.
    metrics_ : dict, see :class:`DataDrivenLR`.

    References
    ----------
    Chen, T. and Guestrin, C. (2016). XGBoost: a scalable tree boosting
    system. *KDD* 2016. Lundberg, S. M. et al. (2020). From local
    explanations to global understanding with explainable AI for trees.
    *Nature Machine Intelligence* 2, 56-67.
    """

    name = "data_driven"

    def __init__(
        self,
        *,
        features: tuple[str, ...] = PATH_FEATURES,
        n_estimators: int = 200,
        max_depth: int = 4,
        learning_rate: float = 0.1,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        subsample: float = 1.0,
        n_jobs: int | None = None,
        holdout: float | None = 0.2,
        ci: float | None = None,
        n_boot: int = 200,
        random_state=None,
    ):
        self.features = features
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.subsample = subsample
        self.n_jobs = n_jobs
        self.holdout = holdout
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _check_params(self):
        self._check_common()
        check_positive(self.name, learning_rate=self.learning_rate)
        for key in ("n_estimators", "max_depth"):
            value = getattr(self, key)
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ConfigError(f"{self.name}: {key}={value!r} must be an integer >= 1")
        if not (isinstance(self.subsample, (int, float)) and 0 < self.subsample <= 1):
            raise ConfigError(f"{self.name}: subsample={self.subsample!r} must be in (0, 1]")
        for key in ("min_child_weight", "reg_lambda"):
            value = getattr(self, key)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise ConfigError(f"{self.name}: {key}={value!r} must be a finite number >= 0")

    def _fit_classifier(self, X, y, w, seed):
        import xgboost as xgb

        params = {
            "objective": "binary:logistic",
            "eta": float(self.learning_rate),
            "max_depth": int(self.max_depth),
            "min_child_weight": float(self.min_child_weight),
            "lambda": float(self.reg_lambda),
            "subsample": float(self.subsample),
            "tree_method": "hist",
            "seed": seed % (2**31),
            "verbosity": 0,
        }
        if self.n_jobs is not None:
            params["nthread"] = int(self.n_jobs)
        dtrain = xgb.DMatrix(X, label=y, weight=w)
        return xgb.train(params, dtrain, num_boost_round=int(self.n_estimators))

    def _margin(self, clf, X):
        import xgboost as xgb

        return clf.predict(xgb.DMatrix(X), output_margin=True).astype(np.float64)

    def _contributions(self, clf, X, background_mean):
        import xgboost as xgb

        contrib = clf.predict(xgb.DMatrix(X), pred_contribs=True)
        return np.asarray(contrib, dtype=np.float64)[:, :-1]
