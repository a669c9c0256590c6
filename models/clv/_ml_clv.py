r"""Machine-learning CLV: gradient-boosted trees on account features, time-split holdout.

The question: given everything known about the accounts at a **cut-off** date
:math:`c`, how much revenue will each account bring in the **holdout**
:math:`(c, c + H]` (``H`` = ``holdout_months`` calendar months)? Four
predictors answer it and are scored on the same accounts:

* **XGBoost** (:class:`MLCLVModel`) on account features at the cut-off;
* **BG/NBD + Gamma-Gamma** and **Pareto/NBD + Gamma-Gamma**, the
  probabilistic models of :mod:`models.clv`, fitted on the won deals up to the
  cut-off;
* a **naive baseline**: each account's revenue in the last ``H`` months
  before the cut-off, :math:`(c - H, c]`, carried forward.

Revenue (the target)
--------------------
``revenue="bookings"`` (default)
    The amounts of the won opportunities with ``closed_at`` in the window.
    These are the transactions of the probabilistic models, so they all
    predict the same quantity.
``revenue="billings"``
    Contract payments: each contract pays its ``annual_value`` at its
    ``start_date`` and at every yearly anniversary it is still active for
    (anniversary ``< end_date``, or no ``end_date``). New deals *and*
    renewals; the probabilistic models then see the payments as their
    transactions.

An account's revenue in a window is the sum of its events in the window;
accounts without events have 0 (every account of ``accounts`` is a row).

Time split (no leakage)
-----------------------
Everything a predictor uses comes from events on or before the cut-off; the
cut-off itself belongs to the calibration period (an event at exactly ``c``
is known at ``c``), the holdout is :math:`(c, c + H]`. The XGBoost model is
*trained* one holdout length earlier: features at :math:`c_0 = c - H`,
label = revenue in :math:`(c_0, c]` (known at the cut-off), then *applied* to
the features at :math:`c`. So no predictor ever sees a holdout label, and a
model trained this way can be deployed at the cut-off as it is. The price is
that the training snapshot has ``H`` months less history than the scoring
snapshot.

Features at an as-of date :math:`a` (:func:`build_clv_features`)
---------------------------------------------------------------
* **RFM** of the won deals up to :math:`a` via
  :func:`~models.clv.summary_from_transactions` (``freq`` periods; see below):
  ``frequency``, ``recency``, ``T``, ``monetary_value``, plus
  ``periods_since_last_purchase = T - recency`` and ``total_won_amount``;
* **last-window revenue** ``revenue_last_window`` in :math:`(a - H, a]` (the
  naive baseline is this column);
* **pipeline**: opportunities open at :math:`a` (created on or before, not
  closed by :math:`a`): ``n_open_opportunities``, ``open_pipeline_amount``
  (the CRM amount as recorded), ``open_max_stage`` (furthest open stage
  reached by :math:`a` per ``opportunity_stages``; 0 none, 1 qualification ..
  5 negotiation), and ``n_lost_opportunities`` closed lost by :math:`a`;
* **contracts**: ``n_active_contracts`` and ``active_annual_value`` (started
  on or before :math:`a`, not ended by it), ``n_ended_contracts``,
  ``months_since_first_contract`` (NaN without contract);
* **firmographics**: ``segment``, ``industry``, ``region``,
  ``business_unit``, ``abm_tier`` (categorical) and ``annual_revenue``
  (NaN kept: the trees route missing values);
* **signals** of :func:`features.signals.build_signal_panel` as of :math:`a`,
  computed from the touches on or before the cut-off only (so even the
  column vocabulary cannot depend on later data).

An opportunity's outcome (``closed_at``, ``is_won``, ``stage``) is used only
once it is closed on or before :math:`a`; later stage entries are ignored.

Probabilistic models on sparse B2B data
---------------------------------------
B2B accounts buy rarely (a few won deals in two years, most accounts none),
so the textbook set-up (customers born at their first purchase, non-buyers
absent) would drop nine accounts in ten. Here **every account is born at the
start of the data window** :math:`s` with a zero-value birth transaction, so
that

* ``frequency`` = number of ``freq`` periods with a won deal in
  :math:`[s, a]` (all deals count: the birth is the account entering the
  CRM, not a purchase), ``recency`` = age at the last deal, ``T`` = age at
  :math:`a`; accounts that never bought are in the fit with ``frequency = 0``
  (BG/NBD: alive for sure, buying at a low Gamma-distributed rate);
* deals in the same period collapse into one transaction whose value is their
  sum (the :func:`~models.clv.summary_from_transactions` convention);
* Gamma-Gamma is fitted on the accounts with ``frequency >= 1`` (its
  ``monetary_value`` is the mean deal value); the others get the fitted
  population mean :math:`p\gamma/(q-1)` (the empirical mean deal value if the
  fit has :math:`q \le 1`);
* holdout prediction = :math:`E[Y(h) \mid x, t_x, T] \times E[M \mid x, m_x]`,
  ``h`` the holdout length in ``freq`` periods (days / 7 for weeks),
  undiscounted (it is compared with undiscounted holdout revenue);
* the BG/NBD and Pareto/NBD are fitted on the distinct ``(x, t_x, T)`` rows
  weighted by their counts (a few hundred rows for any number of accounts).

On two or three years of synthetic B2B data no dropout is visible: the
dropout parameters run to their bounds (BG/NBD :math:`a \to 0`, Pareto/NBD
:math:`s \to 0`), the fits warn that the Hessian is singular, and both
models reduce to the NBD (a Gamma mixture of Poisson buyers), so their
predictions coincide.

Metrics (:func:`clv_metrics`)
-----------------------------
With actual revenue :math:`y_i`, prediction :math:`\hat y_i` over the
:math:`n` accounts, and :math:`k = \lceil n / 10 \rceil`:

.. math::

    \mathrm{MAE} = \frac1n\sum_i |y_i - \hat y_i|, \qquad
    \mathrm{RMSE} = \Big(\frac1n\sum_i (y_i - \hat y_i)^2\Big)^{1/2},

``top_decile_capture`` :math:`= \sum_{i \in P} y_i / \sum_i y_i`, with
:math:`P` the :math:`k` accounts of largest prediction (ties broken by
account order); ``top_decile_precision`` :math:`= |P \cap A| / |A|`, with
:math:`A` the :math:`k` accounts of largest actual revenue *among those with
revenue* (so when fewer than 10% of accounts have holdout revenue, it is the
share of the revenue-generating accounts that made the predicted top decile).

References
----------
Chen, T., & Guestrin, C. (2016). XGBoost: A Scalable Tree Boosting System.
KDD '16, 785-794.

Lundberg, S. M., et al. (2020). From local explanations to global
understanding with explainable AI for trees. Nature Machine Intelligence 2,
56-67 (TreeSHAP).

Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting Your
Customers" the Easy Way. Marketing Science 24(2), 275-284.

Vanderveld, A., et al. (2016). An Engagement-Based Customer Lifetime Value
System for E-commerce. KDD '16, 293-302 (ML CLV against the probabilistic
baselines).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from features.contracts import OPPORTUNITY_STAGES
from features.dates import to_utc
from features.errors import DataValidationError, SchemaError
from features.signals import SignalConfig, build_signal_panel

from ._beta_geo import BetaGeoModel
from ._gamma_gamma import GammaGammaModel
from ._pareto_nbd import ParetoNBDModel
from ._summary import summary_from_transactions

__all__ = [
    "CLVHoldout",
    "MLCLVModel",
    "build_clv_features",
    "clv_comparison",
    "clv_holdout_predictions",
    "clv_metrics",
    "holdout_revenue",
]

logger = logging.getLogger(__name__)

REVENUE_KINDS = ("bookings", "billings")
CATEGORICAL_FEATURES = ("segment", "industry", "region", "business_unit", "abm_tier")
#: RFM columns left out of the XGBoost input: T is the same for every account of a
#: snapshot and grows with the snapshot date, recency (age at the last deal) with it;
#: periods_since_last_purchase carries their information without the drift.
_ML_EXCLUDED = ("T", "recency")
MODEL_NAMES = ("BG/NBD + Gamma-Gamma", "Pareto/NBD + Gamma-Gamma", "XGBoost", "naive: last period")
_DAYS_PER_PERIOD = {"W": 7.0, "D": 1.0}
_REQUIRED = {
    "accounts": ("account_id", "segment", "industry", "region", "business_unit", "abm_tier", "annual_revenue"),
    "opportunities": ("opportunity_id", "account_id", "created_at", "closed_at", "is_won", "amount"),
    "opportunity_stages": ("opportunity_id", "stage", "entered_at"),
    "contracts": ("contract_id", "account_id", "start_date", "end_date", "annual_value"),
    "touchpoints": ("account_id", "contact_id", "timestamp", "channel", "signal"),
    "contacts": ("contact_id", "account_id", "buying_role", "seniority", "department"),
}


# ---------------------------------------------------------------------------
# input checks and dates


def _utc(value: Any, name: str, who: str) -> pd.Timestamp:
    return to_utc(value, f"{who}: {name}", error=DataValidationError)


def _utc_col(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True)


def _check_tables(tables: Any, needed: tuple[str, ...], who: str) -> None:
    if not isinstance(tables, dict):
        raise SchemaError(
            f"{who}: tables must be a dict of table name to DataFrame (e.g. generate_dataset(...).tables); "
            f"got {type(tables).__name__}."
        )
    for name in needed:
        if name not in tables:
            raise SchemaError(f"{who}: tables has no {name!r} table (tables present: {sorted(tables)}); add it.")
        missing = [c for c in _REQUIRED[name] if c not in tables[name].columns]
        if missing:
            raise SchemaError(
                f"{who}: the {name} table is missing column(s) {missing} (expected {list(_REQUIRED[name])}); "
                "map the export's columns to the contract (features.contracts) first."
            )
    if len(tables["accounts"]) == 0:
        raise DataValidationError(f"{who}: the accounts table is empty; there is no account to value.")


def _check_feature_inputs(tables: Any, freq: str, include_signals: bool, who: str) -> None:
    """The period alias and the tables that :func:`build_clv_features` reads."""
    if freq not in _DAYS_PER_PERIOD:
        raise DataValidationError(f"{who}: freq must be one of {sorted(_DAYS_PER_PERIOD)}; got {freq!r}.")
    _check_tables(tables, ("accounts", "opportunities", "opportunity_stages", "contracts")
                  + (("touchpoints", "contacts") if include_signals else ()), who)


def _check_revenue(revenue: str, who: str) -> None:
    if revenue not in REVENUE_KINDS:
        raise DataValidationError(
            f"{who}: revenue must be one of {list(REVENUE_KINDS)} (won deal amounts or contract payments); "
            f"got {revenue!r}."
        )


def _check_months(value: Any, who: str, name: str = "holdout_months") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataValidationError(f"{who}: {name} must be a whole number of months >= 1; got {value!r} (e.g. 6).")
    return int(value)


def _data_window(tables: dict[str, pd.DataFrame]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last event date over touchpoints, opportunities, stages and contract starts."""
    stamps = []
    for name, cols in (
        ("touchpoints", ("timestamp",)),
        ("opportunities", ("created_at", "closed_at")),
        ("opportunity_stages", ("entered_at",)),
        ("contracts", ("start_date",)),
    ):
        if name in tables and len(tables[name]):
            for c in cols:
                s = _utc_col(tables[name][c]).dropna()
                if len(s):
                    stamps += [s.min(), s.max()]
    if not stamps:
        raise DataValidationError(
            "the tables hold no dated event (touchpoints, opportunities, contracts are empty); "
            "nothing to calibrate on."
        )
    return min(stamps), max(stamps)


def _won_deals(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = tables["opportunities"]
    closed = _utc_col(o["closed_at"])
    won = o["is_won"].fillna(False).astype(bool).to_numpy() & closed.notna().to_numpy()
    return pd.DataFrame(
        {"account_id": o["account_id"].to_numpy()[won], "date": closed.to_numpy()[won],
         "value": pd.to_numeric(o["amount"], errors="coerce").to_numpy(dtype=float)[won]}
    )


def _contract_payments(tables: dict[str, pd.DataFrame], until: pd.Timestamp) -> pd.DataFrame:
    """Payments (annual_value at start and at each anniversary still active) on or before ``until``."""
    k = tables["contracts"]
    start = _utc_col(k["start_date"])
    end = _utc_col(k["end_date"])
    value = pd.to_numeric(k["annual_value"], errors="coerce").to_numpy(dtype=float)
    ok = start.notna().to_numpy() & (start <= until).to_numpy()
    start, end, value, acc = start[ok], end[ok], value[ok], k["account_id"].to_numpy()[ok]
    frames = []
    year = 0
    while len(start):
        pay = start + pd.DateOffset(years=year) if year else start
        active = (end.isna() | (pay < end)).to_numpy() & (pay <= until).to_numpy()
        if not active.any():
            break
        frames.append(pd.DataFrame({"account_id": acc[active], "date": pay.to_numpy()[active], "value": value[active]}))
        keep = active
        start, end, value, acc = start[keep], end[keep], value[keep], acc[keep]
        year += 1
    if not frames:
        return pd.DataFrame({"account_id": pd.Series([], dtype=object), "date": pd.Series([], dtype="datetime64[ns, UTC]"),
                             "value": pd.Series([], dtype=float)})
    return pd.concat(frames, ignore_index=True)


def _revenue_events(tables: dict[str, pd.DataFrame], revenue: str, until: pd.Timestamp) -> pd.DataFrame:
    ev = _won_deals(tables) if revenue == "bookings" else _contract_payments(tables, until)
    ev["date"] = pd.to_datetime(ev["date"], utc=True)
    bad = ~np.isfinite(ev["value"].to_numpy(dtype=float))
    if bad.any():
        col = "amount" if revenue == "bookings" else "annual_value"
        raise DataValidationError(
            f"clv: {col} is missing or not a number for {int(bad.sum())} revenue event(s) "
            f"(first account {ev['account_id'].to_numpy()[bad][0]!r}); fix or quarantine those rows."
        )
    return ev[ev["date"] <= until].reset_index(drop=True)


def _window_sum(events: pd.DataFrame, ids: pd.Index, lo: pd.Timestamp, hi: pd.Timestamp) -> np.ndarray:
    """Sum of event values per account over (lo, hi]."""
    m = (events["date"] > lo) & (events["date"] <= hi)
    s = events.loc[m].groupby("account_id")["value"].sum()
    return s.reindex(ids, fill_value=0.0).to_numpy(dtype=float)


def holdout_revenue(
    tables: dict[str, pd.DataFrame],
    cutoff: Any,
    holdout_months: int,
    *,
    revenue: str = "bookings",
) -> pd.Series:
    """Each account's revenue in the holdout ``(cutoff, cutoff + holdout_months]``.

    Parameters
    ----------
    tables : dict of str to DataFrame
        ``accounts`` and ``opportunities`` (bookings) or ``contracts`` (billings).
    cutoff : date-like
        End of the calibration period (tz-naive means UTC).
    holdout_months : int
        Holdout length ``H`` in calendar months.
    revenue : {"bookings", "billings"}, default="bookings"
        Won deal amounts by ``closed_at``, or contract payments (module docstring).

    Returns
    -------
    Series of shape (n_accounts,)
        Indexed by ``account_id`` in ``accounts`` order; 0 without revenue.
    """
    who = "holdout_revenue"
    _check_revenue(revenue, who)
    H = _check_months(holdout_months, who)
    c = _utc(cutoff, "cutoff", who)
    _check_tables(tables, ("accounts", "opportunities" if revenue == "bookings" else "contracts"), who)
    end = c + pd.DateOffset(months=H)
    ids = pd.Index(tables["accounts"]["account_id"], name="account_id")
    ev = _revenue_events(tables, revenue, end)
    return pd.Series(_window_sum(ev, ids, c, end), index=ids, name="holdout_revenue")


# ---------------------------------------------------------------------------
# features


def _rfm(
    events: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp, birth: pd.Timestamp, freq: str
) -> pd.DataFrame:
    """RFM with every account born at ``birth`` (zero-value birth transaction)."""
    ev = events[(events["date"] <= as_of) & (events["date"] >= birth)]
    births = pd.DataFrame({"account_id": ids.to_numpy(), "date": birth, "value": 0.0})
    log = pd.concat([births, ev[["account_id", "date", "value"]]], ignore_index=True)
    summary = summary_from_transactions(
        log, "account_id", "date", "value", observation_end=as_of, freq=freq
    )
    return summary.reindex(ids)


def _stage_index() -> dict[str, int]:
    open_stages = [s for s in OPPORTUNITY_STAGES if not s.startswith("closed_")]
    return {s: i + 1 for i, s in enumerate(open_stages)}


def _features_at(
    tables: dict[str, pd.DataFrame],
    events: pd.DataFrame,
    as_of: pd.Timestamp,
    birth: pd.Timestamp,
    window_months: int,
    freq: str,
    signals: pd.DataFrame | None,
) -> pd.DataFrame:
    acc = tables["accounts"]
    ids = pd.Index(acc["account_id"], name="account_id")
    rfm = _rfm(events, ids, as_of, birth, freq)
    out = pd.DataFrame(index=ids)
    out["frequency"] = rfm["frequency"].to_numpy()
    out["recency"] = rfm["recency"].to_numpy()
    out["T"] = rfm["T"].to_numpy()
    out["monetary_value"] = rfm["monetary_value"].to_numpy()
    # NaN for accounts that never bought (not their age, which grows with the snapshot date)
    out["periods_since_last_purchase"] = np.where(out["frequency"] > 0, out["T"] - out["recency"], np.nan)
    out["total_won_amount"] = _window_sum(events, ids, birth - pd.Timedelta(days=1), as_of)
    out["revenue_last_window"] = _window_sum(events, ids, as_of - pd.DateOffset(months=window_months), as_of)

    # pipeline at as_of: only what had happened by then
    o = tables["opportunities"]
    created = _utc_col(o["created_at"])
    closed = _utc_col(o["closed_at"])
    exists = (created <= as_of).to_numpy()
    closed_by = (closed.notna() & (closed <= as_of)).to_numpy()
    is_open = exists & ~closed_by
    won = o["is_won"].fillna(False).astype(bool).to_numpy()
    amount = pd.to_numeric(o["amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    o_acc = o["account_id"].to_numpy()
    frame = pd.DataFrame({"account_id": o_acc, "open": is_open.astype(float), "open_amount": amount * is_open,
                          "lost": (closed_by & ~won).astype(float)})
    g = frame.groupby("account_id")[["open", "open_amount", "lost"]].sum().reindex(ids, fill_value=0.0)
    out["n_open_opportunities"] = g["open"].to_numpy()
    out["open_pipeline_amount"] = g["open_amount"].to_numpy()
    out["n_lost_opportunities"] = g["lost"].to_numpy()
    st = tables["opportunity_stages"]
    entered = _utc_col(st["entered_at"])
    rank = st["stage"].map(_stage_index()).astype(float).fillna(0.0).to_numpy()
    open_ids = pd.Index(o["opportunity_id"].to_numpy()[is_open])
    keep = (entered <= as_of).to_numpy() & st["opportunity_id"].isin(open_ids).to_numpy()
    stage_max = pd.Series(rank[keep], index=st["opportunity_id"].to_numpy()[keep]).groupby(level=0).max()
    opp_acc = pd.Series(o_acc, index=o["opportunity_id"].to_numpy())
    per_acc = pd.Series(stage_max.to_numpy(), index=opp_acc.reindex(stage_max.index).to_numpy())
    out["open_max_stage"] = per_acc.groupby(level=0).max().reindex(ids, fill_value=0.0).to_numpy()

    # contracts at as_of
    k = tables["contracts"]
    start = _utc_col(k["start_date"])
    end = _utc_col(k["end_date"])
    started = (start <= as_of).to_numpy()
    ended = (end.notna() & (end <= as_of)).to_numpy() & started
    active = started & ~ended
    value = pd.to_numeric(k["annual_value"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    kf = pd.DataFrame({"account_id": k["account_id"].to_numpy(), "active": active.astype(float),
                       "active_value": value * active, "ended": ended.astype(float)})
    kg = kf.groupby("account_id")[["active", "active_value", "ended"]].sum().reindex(ids, fill_value=0.0)
    out["n_active_contracts"] = kg["active"].to_numpy()
    out["active_annual_value"] = kg["active_value"].to_numpy()
    out["n_ended_contracts"] = kg["ended"].to_numpy()
    first = pd.Series(start.to_numpy()[started], index=k["account_id"].to_numpy()[started]).groupby(level=0).min()
    first = pd.to_datetime(first.reindex(ids), utc=True)
    out["months_since_first_contract"] = ((as_of - first).dt.total_seconds() / (86_400 * 30.4375)).to_numpy()

    # firmographics
    for col in CATEGORICAL_FEATURES:
        out[col] = acc[col].astype("string").to_numpy()
    out["annual_revenue"] = pd.to_numeric(acc["annual_revenue"], errors="coerce").to_numpy(dtype=float)

    if signals is not None:
        sig = signals.drop(columns=["account_id", "as_of"]).set_axis(ids, axis=0)
        out = pd.concat([out, sig.astype(float)], axis=1)
    return out


def build_clv_features(
    tables: dict[str, pd.DataFrame],
    as_of: Any | list[Any],
    *,
    window_months: int = 6,
    revenue: str = "bookings",
    freq: str = "W",
    data_start: Any = None,
    signal_config: SignalConfig | None = None,
    include_signals: bool = True,
) -> pd.DataFrame | list[pd.DataFrame]:
    """Account features for CLV as of one or several dates, with no later data.

    Parameters
    ----------
    tables : dict of str to DataFrame
        ``accounts``, ``contacts``, ``touchpoints``, ``opportunities``,
        ``opportunity_stages``, ``contracts`` (DESIGN.md contracts).
    as_of : date-like or list of date-like
        Snapshot date(s); events on or before it are used.
    window_months : int, default=6
        Length of the ``revenue_last_window`` look-back.
    revenue : {"bookings", "billings"}, default="bookings"
        What the RFM and last-window revenue count (module docstring).
    freq : {"W", "D"}, default="W"
        Period of the RFM summary.
    data_start : date-like, optional
        Birth date of every account for the RFM summary; default: the first
        event date in the tables.
    signal_config : SignalConfig, optional
        Passed to :func:`features.signals.build_signal_panel`.
    include_signals : bool, default=True
        Add the signal features.

    Returns
    -------
    DataFrame of shape (n_accounts, n_features), or a list of them
        Indexed by ``account_id`` in ``accounts`` order; columns in the
        module docstring. Categorical columns are strings.
    """
    who = "build_clv_features"
    _check_revenue(revenue, who)
    W = _check_months(window_months, who, "window_months")
    _check_feature_inputs(tables, freq, include_signals, who)
    single = not isinstance(as_of, (list, tuple))
    dates = [_utc(a, "as_of", who) for a in ([as_of] if single else as_of)]
    first, _ = _data_window(tables)
    birth = first if data_start is None else _utc(data_start, "data_start", who)
    birth = birth.floor("D")
    for d in dates:
        if d <= birth:
            raise DataValidationError(
                f"{who}: as_of {d.date()} is not after the start of the data ({birth.date()}); "
                "pass a later date."
            )
    latest = max(dates)
    events = _revenue_events(tables, revenue, latest)
    panel = None
    if include_signals:
        tp = tables["touchpoints"]
        tp = tp[(_utc_col(tp["timestamp"]) <= latest).to_numpy()]
        panel = build_signal_panel(tp, tables["contacts"], tables["accounts"], sorted(dates), signal_config)
        panel_dates = pd.to_datetime(panel["as_of"], utc=True)
    frames = []
    for d in dates:
        sig = panel[(panel_dates == d).to_numpy()] if panel is not None else None
        frames.append(_features_at(tables, events, d, birth, W, freq, sig))
    return frames[0] if single else frames


# ---------------------------------------------------------------------------
# the estimator


class MLCLVModel(RegressorMixin, BaseEstimator):
    """Gradient-boosted trees (XGBoost) for account revenue, explained with SHAP.

    A thin scikit-learn estimator around :class:`xgboost.XGBRegressor`.
    String / categorical columns of ``X`` are learned as pandas categoricals
    (XGBoost's native categorical splits; categories unseen at fit time become
    missing at predict time); missing numbers are routed by the trees. After
    fitting, the mean absolute SHAP value of each feature over the training
    rows (TreeSHAP, Lundberg et al. 2020, as computed by XGBoost's
    ``pred_contribs``),

    .. math:: I_j = \\frac1n \\sum_i |\\phi_{ij}|, \\qquad
              f(x_i) = \\phi_0 + \\sum_j \\phi_{ij},

    is stored in ``shap_importance_``.

    Parameters
    ----------
    n_estimators : int, default=300
        Boosting rounds.
    max_depth : int, default=4
        Tree depth.
    learning_rate : float, default=0.05
        Shrinkage.
    objective : str, default="reg:squarederror"
        XGBoost objective. Squared error fits the conditional mean on the
        revenue scale (best RMSE and top-decile ranking on the synthetic
        benchmark); ``"reg:tweedie"`` (log link, variance power
        ``tweedie_variance_power``) models the many exact zeros and the
        skewed positive amounts, gave a lower MAE but under-predicted the
        holdout total (benchmarks/RESULTS.md).
    tweedie_variance_power : float, default=1.5
        In (1, 2); used with the Tweedie objective only.
    subsample : float, default=0.8
        Row subsampling per tree.
    colsample_bytree : float, default=0.8
        Column subsampling per tree.
    min_child_weight : float, default=1.0
    n_jobs : int, default=1
        Threads of XGBoost (the machine is shared; raise it when alone).
    shap_max_rows : int or None, default=5000
        Rows (a seeded sample of the training rows) for ``shap_importance_``;
        None: all.
    random_state : int, default=0
        Seed of XGBoost and of the SHAP sample.

    Attributes
    ----------
    booster_ : xgboost.XGBRegressor
        The fitted regressor.
    feature_names_in_ : ndarray of str
    categories_ : dict of str to list
        Categories of each categorical column learned at fit.
    shap_importance_ : DataFrame
        Columns ``feature``, ``mean_abs_shap``, ``share`` (of the total),
        sorted by importance.
    n_features_in_ : int

    References
    ----------
    Chen, T., & Guestrin, C. (2016). XGBoost: A Scalable Tree Boosting System.
    KDD '16.
    Lundberg, S. M., et al. (2020). From local explanations to global
    understanding with explainable AI for trees. Nature Machine Intelligence 2.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 300,
        max_depth: int = 4,
        learning_rate: float = 0.05,
        objective: str = "reg:squarederror",
        tweedie_variance_power: float = 1.5,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 1.0,
        n_jobs: int = 1,
        shap_max_rows: int | None = 5000,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.objective = objective
        self.tweedie_variance_power = tweedie_variance_power
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.n_jobs = n_jobs
        self.shap_max_rows = shap_max_rows
        self.random_state = random_state

    def _frame(self, X: Any, who: str, *, fitting: bool) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            frame = X.copy()
        else:
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise DataValidationError(f"{who}: X must be 2-D (n_accounts, n_features); got shape {arr.shape}.")
            frame = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
        frame.columns = [str(c) for c in frame.columns]
        if len(frame) == 0:
            raise DataValidationError(f"{who}: X has no rows; pass at least one account.")
        if not fitting:
            missing = [c for c in self.feature_names_in_ if c not in frame.columns]
            if missing:
                raise SchemaError(
                    f"{who}: X is missing feature(s) {missing[:5]} seen at fit; build X with the same "
                    "build_clv_features call as the training features."
                )
            frame = frame[list(self.feature_names_in_)]
        cats = {} if fitting else self.categories_
        for col in frame.columns:
            s = frame[col]
            is_cat = isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s)
            if fitting and is_cat:
                values = s.astype("string").dropna().unique()
                cats[col] = sorted(str(v) for v in values)
            if col in cats:
                frame[col] = pd.Categorical(s.astype("string").astype(object), categories=cats[col])
            else:
                try:
                    num = s.to_numpy(dtype=float)
                except (TypeError, ValueError):
                    raise DataValidationError(
                        f"{who}: column {col!r} is not numeric and was not categorical at fit; "
                        "convert it or refit."
                    ) from None
                if np.isinf(num).any():
                    raise DataValidationError(
                        f"{who}: column {col!r} has an infinite value; replace it (NaN is allowed: the "
                        "trees route missing values)."
                    )
                frame[col] = num
        if fitting:
            self.categories_ = cats
        return frame

    def fit(self, X: Any, y: Any) -> MLCLVModel:
        """Fit on account features ``X`` and revenue ``y``.

        Parameters
        ----------
        X : DataFrame of shape (n_accounts, n_features)
            E.g. :func:`build_clv_features`; strings become categoricals.
        y : array-like of shape (n_accounts,)
            Revenue, finite (and >= 0 with the Tweedie objective).

        Returns
        -------
        self : MLCLVModel
        """
        import xgboost as xgb

        who = f"{type(self).__name__}.fit"
        frame = self._frame(X, who, fitting=True)
        target = np.asarray(y, dtype=float).reshape(-1)
        if target.shape[0] != len(frame):
            raise DataValidationError(f"{who}: y has {target.shape[0]} values for {len(frame)} rows of X.")
        if not np.all(np.isfinite(target)):
            raise DataValidationError(f"{who}: y has a missing or infinite value; fill or drop those accounts.")
        if self.objective == "reg:tweedie" and (target < 0).any():
            raise DataValidationError(
                f"{who}: y has negative values, which the Tweedie objective refuses; "
                "net refunds out or use objective='reg:squarederror'."
            )
        if self.objective == "reg:tweedie" and not (target > 0).any():
            raise DataValidationError(
                f"{who}: every y is 0; there is no revenue to learn from (a longer training window?)."
            )
        params = dict(
            n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
            objective=self.objective, subsample=self.subsample, colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight, n_jobs=self.n_jobs, random_state=self.random_state,
            tree_method="hist", enable_categorical=True,
        )
        if self.objective == "reg:tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        self.booster_ = xgb.XGBRegressor(**params).fit(frame, target)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        rows = frame
        if self.shap_max_rows is not None and len(frame) > self.shap_max_rows:
            pick = np.sort(np.random.default_rng(self.random_state).choice(len(frame), self.shap_max_rows, replace=False))
            rows = frame.iloc[pick]
        phi = self._shap(rows)
        imp = np.abs(phi).mean(axis=0)
        total = imp.sum()
        self.shap_importance_ = (
            pd.DataFrame({"feature": self.feature_names_in_.astype(str), "mean_abs_shap": imp,
                          "share": imp / total if total > 0 else np.zeros_like(imp)})
            .sort_values(["mean_abs_shap", "feature"], ascending=[False, True], kind="mergesort")
            .reset_index(drop=True)
        )
        return self

    def _shap(self, frame: pd.DataFrame, *, with_base: bool = False) -> np.ndarray:
        """TreeSHAP contributions from XGBoost's own implementation (``pred_contribs``).

        It is the algorithm of the ``shap`` package's ``TreeExplainer``
        (Lundberg et al. 2020), computed inside XGBoost: exact, additive
        (the contributions plus the bias column sum to the margin) and aware
        of categorical splits. (``shap.TreeExplainer`` 0.51 misreads XGBoost
        3's vector ``base_score``, so its values are offset.)
        """
        import xgboost as xgb

        dm = xgb.DMatrix(frame, enable_categorical=True)
        contribs = np.asarray(self.booster_.get_booster().predict(dm, pred_contribs=True), dtype=float)
        return contribs if with_base else contribs[:, :-1]

    def predict(self, X: Any) -> np.ndarray:
        """Predicted revenue, shape (n_accounts,)."""
        check_is_fitted(self, "booster_")
        frame = self._frame(X, f"{type(self).__name__}.predict", fitting=False)
        return np.asarray(self.booster_.predict(frame), dtype=float)

    def shap_values(self, X: Any) -> pd.DataFrame:
        """Per-account SHAP contributions, in the model's margin (log for Tweedie).

        Returns
        -------
        DataFrame of shape (n_accounts, n_features + 1)
            Same index as ``X``; one column per feature and ``bias`` (the
            expected margin). Each row sums to the margin of its prediction
            (the prediction itself for squared error).
        """
        check_is_fitted(self, "booster_")
        frame = self._frame(X, f"{type(self).__name__}.shap_values", fitting=False)
        index = X.index if isinstance(X, pd.DataFrame) else None
        columns = [*self.feature_names_in_.astype(str), "bias"]
        return pd.DataFrame(self._shap(frame, with_base=True), columns=columns, index=index)


# ---------------------------------------------------------------------------
# metrics


def clv_metrics(actual: Any, predictions: pd.DataFrame | dict[str, Any], *, top_share: float = 0.1) -> pd.DataFrame:
    """MAE, RMSE and top-decile capture / precision of each prediction column.

    Parameters
    ----------
    actual : array-like of shape (n_accounts,)
        Holdout revenue.
    predictions : DataFrame or dict of str to array-like
        One column per model, aligned with ``actual``.
    top_share : float, default=0.1
        Share of accounts in the "top decile" (``k = ceil(top_share * n)``).

    Returns
    -------
    DataFrame
        Columns ``model``, ``mae``, ``rmse``, ``top_decile_capture``,
        ``top_decile_precision``, ``total_predicted``, ``total_actual``
        (definitions in the module docstring).
    """
    who = "clv_metrics"
    y = np.asarray(actual, dtype=float).reshape(-1)
    n = y.size
    if n == 0:
        raise DataValidationError(f"{who}: no accounts to score.")
    if not np.all(np.isfinite(y)):
        raise DataValidationError(f"{who}: actual has a missing or infinite value.")
    if not 0 < top_share <= 1:
        raise DataValidationError(f"{who}: top_share must be in (0, 1]; got {top_share!r}.")
    total = y.sum()
    if total <= 0:
        raise DataValidationError(
            f"{who}: the actual holdout revenue sums to {total:g}; top-decile capture is undefined. "
            "Choose a cut-off and holdout_months with revenue in the holdout."
        )
    k = int(math.ceil(top_share * n))
    order_true = np.argsort(-y, kind="mergesort")[:k]
    true_top = set(order_true[y[order_true] > 0].tolist())
    rows = []
    items = predictions.items() if isinstance(predictions, dict) else predictions.items()
    for name, pred in items:
        p = np.asarray(pred, dtype=float).reshape(-1)
        if p.shape[0] != n:
            raise DataValidationError(f"{who}: prediction {name!r} has {p.shape[0]} values for {n} accounts.")
        if not np.all(np.isfinite(p)):
            raise DataValidationError(f"{who}: prediction {name!r} has a missing or infinite value.")
        top = np.argsort(-p, kind="mergesort")[:k]
        err = y - p
        rows.append({
            "model": str(name),
            "mae": float(np.mean(np.abs(err))),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "top_decile_capture": float(y[top].sum() / total),
            "top_decile_precision": float(len(true_top.intersection(top.tolist())) / len(true_top)),
            "total_predicted": float(p.sum()),
            "total_actual": float(total),
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# the comparison


@dataclass(frozen=True)
class CLVHoldout:
    """Per-account holdout predictions of every model, and what produced them.

    Attributes
    ----------
    actual : Series
        Holdout revenue per account (index ``account_id``).
    predictions : DataFrame
        One column per model (``MODEL_NAMES``), same index.
    features : DataFrame
        Features at the cut-off (the XGBoost input).
    model : MLCLVModel
        The fitted XGBoost model (``shap_importance_``).
    transaction_models : dict
        Fitted ``BetaGeoModel``, ``ParetoNBDModel`` and ``GammaGammaModel``.
    cutoff, holdout_end : Timestamp
    timings : dict of str to float
        Seconds spent in features, each model and scoring.
    """

    actual: pd.Series
    predictions: pd.DataFrame
    features: pd.DataFrame
    model: MLCLVModel
    transaction_models: dict[str, Any]
    cutoff: pd.Timestamp
    holdout_end: pd.Timestamp
    timings: dict[str, float]


def _check_window(tables: dict, cutoff: Any, H: int, data_start: Any, data_end: Any, who: str):
    c = _utc(cutoff, "cutoff", who)
    first, last = _data_window(tables)
    start = (first if data_start is None else _utc(data_start, "data_start", who)).floor("D")
    end_data = last if data_end is None else _utc(data_end, "data_end", who)
    train_at = c - pd.DateOffset(months=H)
    end = c + pd.DateOffset(months=H)
    if c <= start or c >= end_data:
        raise DataValidationError(
            f"{who}: cutoff {c.date()} is outside the data ({start.date()} .. {end_data.date()}); "
            "pass a cutoff inside it, at least holdout_months after the start and before the end."
        )
    if end > end_data:
        raise DataValidationError(
            f"{who}: the holdout ({c.date()} .. {end.date()}) runs past the end of the data "
            f"({end_data.date()}); pass an earlier cutoff or a smaller holdout_months "
            f"(at most {_months_between(c, end_data)} here)."
        )
    if train_at <= start:
        raise DataValidationError(
            f"{who}: cutoff {c.date()} leaves less than holdout_months={H} of history after the data start "
            f"({start.date()}) for the XGBoost training window ({train_at.date()} .. {c.date()}); "
            "pass a later cutoff or a smaller holdout_months."
        )
    return c, start, train_at, end


def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    m = (b.year - a.year) * 12 + (b.month - a.month)
    return max(m - (1 if a + pd.DateOffset(months=m) > b else 0), 0)


def _probabilistic_predictions(
    summary: pd.DataFrame, horizon: float, max_iter: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    rfm = summary[["frequency", "recency", "T"]]
    # B2B summaries have few distinct (x, t_x, T) rows: fit on those, weighted by their counts
    distinct = rfm.value_counts(sort=False).rename("count").reset_index()
    repeat = summary[summary["frequency"] > 0]
    if repeat.empty:
        raise DataValidationError(
            "clv_comparison: no account has a won deal before the cut-off; the probabilistic models have "
            "nothing to fit. Pass a later cutoff."
        )
    gg = GammaGammaModel(max_iter=max_iter).fit(repeat[["frequency", "monetary_value"]])
    pop = gg.population_mean_spend()
    if not np.isfinite(pop) or pop <= 0:
        pop = float(np.average(repeat["monetary_value"], weights=repeat["frequency"]))
        logger.warning("Gamma-Gamma q <= 1: using the empirical mean deal value %.1f for non-buyers", pop)
    x = summary["frequency"].to_numpy(dtype=float)
    spend = np.full(x.shape, pop)
    spend[x > 0] = gg.expected_average_profit(repeat[["frequency", "monetary_value"]])
    out, models = {}, {"gamma_gamma": gg}
    for name, cls, key in (
        (MODEL_NAMES[0], BetaGeoModel, "bg_nbd"),
        (MODEL_NAMES[1], ParetoNBDModel, "pareto_nbd"),
    ):
        model = cls(max_iter=max_iter).fit(
            distinct[["frequency", "recency", "T"]], sample_weight=distinct["count"].to_numpy(dtype=float)
        )
        out[name] = model.expected_purchases(horizon, rfm) * spend
        models[key] = model
    return out, models


def clv_holdout_predictions(
    tables: dict[str, pd.DataFrame],
    cutoff: Any,
    holdout_months: int = 6,
    *,
    revenue: str = "bookings",
    freq: str = "W",
    model: MLCLVModel | None = None,
    signal_config: SignalConfig | None = None,
    include_signals: bool = True,
    n_train_snapshots: int = 3,
    data_start: Any = None,
    data_end: Any = None,
    max_iter: int = 1000,
) -> CLVHoldout:
    """Fit every model on data up to ``cutoff`` and predict the holdout revenue.

    Parameters
    ----------
    tables : dict of str to DataFrame
        The input tables (``generate_dataset(...).tables`` or loaded ones).
    cutoff : date-like
        End of the calibration period.
    holdout_months : int, default=6
        Holdout length ``H``; the XGBoost training window is the ``H`` months
        before the cut-off.
    revenue : {"bookings", "billings"}, default="bookings"
    freq : {"W", "D"}, default="W"
        Period of the probabilistic models' RFM summary.
    model : MLCLVModel, optional
        Unfitted template (cloned); default ``MLCLVModel()``.
    signal_config : SignalConfig, optional
    include_signals : bool, default=True
    n_train_snapshots : int, default=3
        XGBoost training snapshots at ``cutoff - H``, ``cutoff - H - 1``
        month, ... (those after the data start), stacked; each labelled with
        its next ``H`` months of revenue, all on or before the cut-off.
    data_start, data_end : date-like, optional
        The data window; default: first and last event dates in the tables.
    max_iter : int, default=1000
        Iterations of the probabilistic model fits.

    Returns
    -------
    CLVHoldout

    Raises
    ------
    DataValidationError
        The cut-off is outside the data, the holdout runs past its end, there
        is less than ``H`` months of history before the cut-off, no won deal
        before it, or no revenue in the holdout.
    """
    import time

    from sklearn.base import clone

    who = "clv_holdout_predictions"
    _check_revenue(revenue, who)
    H = _check_months(holdout_months, who)
    _check_feature_inputs(tables, freq, include_signals, who)
    c, start, train_at, end = _check_window(tables, cutoff, H, data_start, data_end, who)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    actual = holdout_revenue(tables, c, H, revenue=revenue)
    if not (actual > 0).any():
        raise DataValidationError(
            f"{who}: no {revenue} revenue in the holdout ({c.date()} .. {end.date()}); nothing to score. "
            "Pass an earlier cutoff or a longer holdout_months."
        )
    n_snap = _check_months(n_train_snapshots, who, "n_train_snapshots")
    snapshots = [train_at - pd.DateOffset(months=j) for j in range(n_snap)]
    snapshots = [s for s in snapshots if s > start]
    frames = build_clv_features(
        tables, [*snapshots, c], window_months=H, revenue=revenue, freq=freq, data_start=start,
        signal_config=signal_config, include_signals=include_signals,
    )
    X_test = frames[-1]
    # labels: revenue in (s, s + H], all on or before the cut-off
    labels = [holdout_revenue(tables, s, H, revenue=revenue).to_numpy() for s in snapshots]
    ml_cols = [col for col in X_test.columns if col not in _ML_EXCLUDED]
    X_train = pd.concat([f[ml_cols] for f in frames[:-1]], ignore_index=True)
    y_train = np.concatenate(labels)
    timings["features"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    horizon = (end - c).total_seconds() / 86_400 / _DAYS_PER_PERIOD[freq]
    summary = X_test[["frequency", "recency", "T", "monetary_value"]]
    prob, tx_models = _probabilistic_predictions(summary, horizon, max_iter)
    timings["probabilistic"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ml = clone(model) if model is not None else MLCLVModel()
    ml.fit(X_train, y_train)
    timings["xgboost_fit"] = time.perf_counter() - t0
    preds = pd.DataFrame(prob, index=actual.index)
    preds[MODEL_NAMES[2]] = ml.predict(X_test[ml_cols])
    preds[MODEL_NAMES[3]] = X_test["revenue_last_window"].to_numpy()
    return CLVHoldout(actual=actual, predictions=preds[list(MODEL_NAMES)], features=X_test, model=ml,
                      transaction_models=tx_models, cutoff=c, holdout_end=end, timings=timings)


def clv_comparison(
    tables: dict[str, pd.DataFrame],
    cutoff: Any,
    holdout_months: int = 6,
    **kwargs: Any,
) -> pd.DataFrame:
    """Holdout metrics of BG/NBD+GG, Pareto/NBD+GG, XGBoost and the naive baseline.

    Parameters
    ----------
    tables, cutoff, holdout_months, **kwargs
        As :func:`clv_holdout_predictions`.

    Returns
    -------
    DataFrame
        One row per model: ``model``, ``mae``, ``rmse``,
        ``top_decile_capture``, ``top_decile_precision``, ``total_predicted``,
        ``total_actual`` (see :func:`clv_metrics`).

    Examples
    --------
    >>> from features.synthetic import generate_dataset  # doctest: +SKIP
    >>> ds = generate_dataset(5000, seed=0)  # doctest: +SKIP
    >>> clv_comparison(ds.tables, "2025-06-30", 6)  # doctest: +SKIP
    """
    holdout = clv_holdout_predictions(tables, cutoff, holdout_months, **kwargs)
    return clv_metrics(holdout.actual, holdout.predictions)
