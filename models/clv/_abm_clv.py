r"""CLV of ABM tiers against the non-ABM cohort: naive and selection-adjusted, bootstrapped.

For each ABM tier :math:`t` (``one_to_one``, ``one_to_few``, ``one_to_many``)
and the non-ABM cohort (``abm_tier == "none"``), three account-value metrics
are compared, as a difference and a ratio, each with a seeded bootstrap
percentile interval:

``deal_size``
    mean amount of the won deals (``opportunities`` with ``is_won`` and
    ``closed_at`` on or before the observation end), each deal weighted by
    its account's weight.
``first_year_churn``
    :math:`P(T = 1) = \alpha / (\alpha + \beta)` of a shifted-beta-geometric
    model (:class:`~models.clv.ShiftedBetaGeometricModel`, Fader & Hardie
    2007) fitted on the cohort's contracts: the share of new contracts that do
    not renew at their first anniversary.
``clv``
    the expected discounted value of a new contract,
    :math:`\bar v \cdot \mathrm{DEL}(d) = \bar v\,{}_2F_1(1, \beta; \alpha+\beta; 1/(1+d))`,
    with :math:`\bar v` the cohort's (weighted) mean ``annual_value`` and
    :math:`d` the yearly ``discount_rate`` (Fader & Hardie 2010; the first
    payment counts).

The sBG unit is the **contract** (each won deal starts one; the synthetic
generator draws the renewals of every contract of an account with that
account's churn probability). Contract :math:`j` started at :math:`s_j` with
renewal period :math:`P` (``period_days``) has been observed for
:math:`k_j = \lfloor (e - s_j)/P \rfloor` whole periods by the observation end
:math:`e`. If it ended at :math:`f_j \le e` it churned in period
:math:`T_j = \max(1, \lceil (f_j - s_j)/P \rceil)` and contributes
:math:`w\ln P(T = T_j)`; otherwise it is alive after :math:`k_j` periods and
contributes :math:`w\ln S(k_j)` (nothing when :math:`k_j = 0`). With weights
the sBG log-likelihood of :mod:`models.clv._shifted_beta_geo` is used as it
is, on weighted counts. The heterogeneity (:math:`\alpha, \beta` apart) is
identified only once contracts are seen through two renewals or more; with a
shorter history only ``first_year_churn`` is meaningful (a warning says so).

Selection adjustment
--------------------
ABM tiers are chosen, not random: bigger, better-fitting accounts are picked
(and churn less, buy bigger anyway), so the naive comparison mixes the ABM
effect with the selection. The adjusted estimate reweights the non-ABM
cohort to look like the tier on the observables (inverse-propensity
weighting for the effect on the treated, ATT):

1. a multinomial logistic regression of ``abm_tier`` on
   :math:`\log_{10}` ``annual_revenue`` (median-imputed, with a missing
   flag) and one-hot ``segment``, ``industry``, ``region``,
   ``business_unit`` (``covariates``) gives :math:`\hat e_t(x)`;
2. tier accounts keep weight 1; a non-ABM account gets the odds
   :math:`w_i = \hat e_t(x_i) / \hat e_{none}(x_i)`, optionally capped at
   the ``max_weight_quantile`` quantile of the non-ABM weights (default: no
   cap; a 99th-percentile cap left the one-to-one comparison visibly
   unbalanced on size in the synthetic data, trading little variance for a
   lot of bias);
3. every metric is recomputed with these account weights.

The propensity model is fitted **within each metric's population**: on the
accounts with a won deal for ``deal_size``, on the accounts with a contract
for ``first_year_churn`` and ``clv``. Winning depends on size and fit too, so
weights fitted on all accounts would balance the accounts but not the deals
or contracts the metric averages over. ``non_abm_effective_n`` (Kish) shows
how few non-ABM accounts carry the comparison: the one-to-one tier sits at
the top of the size distribution, where non-ABM accounts are rare (weak
overlap), so its adjusted intervals are wide.

Under selection on observables (the synthetic generator's case: tiers are an
ordered logit on size and ICP fit, both functions of these covariates) the
weighted non-ABM cohort estimates what the tier accounts would have had
without ABM, so the adjusted ratios estimate the planted multipliers. The
propensity model is fitted once on all accounts and held fixed in the
bootstrap (the intervals ignore its estimation error; a full uplift module
with matching, AIPW and refitted propensities comes later).

Bootstrap
---------
Replicate :math:`b` resamples the accounts of the tier and of the non-ABM
cohort, each with replacement within its cohort (multinomial counts
:math:`c^{(b)}_i`), carries each account's deals and contracts along, and
recomputes every metric with weights :math:`c^{(b)}_i w_i`. The interval is
the percentile interval of the ``n_boot`` replicates, from
``np.random.default_rng(random_state)``.

References
----------
Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention.
Journal of Interactive Marketing 21(1), 76-90.

Fader, P. S., & Hardie, B. G. S. (2010). Customer-base valuation in a
contractual setting: The perils of ignoring heterogeneity. Marketing Science
29(1), 85-93.

Hirano, K., Imbens, G. W., & Ridder, G. (2003). Efficient estimation of
average treatment effects using the estimated propensity score.
Econometrica 71(4), 1161-1189.

Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
Chapman & Hall (percentile intervals).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from features.contracts import ABM_TIERS
from features.dates import to_utc
from features.errors import DataValidationError, SchemaError

from ._shifted_beta_geo import ShiftedBetaGeometricModel, _sbg_objective
from ._validation import check_positive_scalar

__all__ = ["abm_clv_effects", "abm_propensity_weights"]

logger = logging.getLogger(__name__)

NON_ABM = "none"
ABM_ONLY_TIERS = tuple(t for t in ABM_TIERS if t != NON_ABM)
METRICS = ("deal_size", "first_year_churn", "clv")
DEFAULT_COVARIATES = ("annual_revenue", "segment", "industry", "region", "business_unit")


def _utc(value: Any, name: str, who: str) -> pd.Timestamp:
    return to_utc(value, f"{who}: {name}", error=DataValidationError)


def _check_tables(tables: Any, covariates: tuple[str, ...], who: str) -> None:
    required = {
        "accounts": ("account_id", "abm_tier", *covariates),
        "opportunities": ("account_id", "closed_at", "is_won", "amount"),
        "contracts": ("account_id", "start_date", "end_date", "annual_value"),
    }
    if not isinstance(tables, dict):
        raise SchemaError(f"{who}: tables must be a dict of table name to DataFrame; got {type(tables).__name__}.")
    for name, cols in required.items():
        if name not in tables:
            raise SchemaError(f"{who}: tables has no {name!r} table (present: {sorted(tables)}); add it.")
        missing = [c for c in cols if c not in tables[name].columns]
        if missing:
            raise SchemaError(
                f"{who}: the {name} table is missing column(s) {missing}; map the export to the "
                "contract (features.contracts) or pass covariates= without them."
            )


# ---------------------------------------------------------------------------
# propensity weights


def _design(accounts: pd.DataFrame, covariates: tuple[str, ...]) -> np.ndarray:
    parts = []
    for col in covariates:
        s = accounts[col]
        if col == "annual_revenue" or pd.api.types.is_numeric_dtype(s):
            x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            if col == "annual_revenue":
                x = np.log10(np.where(x > 0, x, np.nan))
            miss = ~np.isfinite(x)
            fill = np.nanmedian(x) if (~miss).any() else 0.0
            x = np.where(miss, fill, x)
            sd = x.std() or 1.0
            parts.append(((x - x.mean()) / sd)[:, None])
            if miss.any():
                parts.append(miss.astype(float)[:, None])
        else:
            dummies = pd.get_dummies(s.astype("string").fillna("(missing)"), dtype=float)
            parts.append(dummies.to_numpy()[:, 1:] if dummies.shape[1] > 1 else np.zeros((len(s), 0)))
    return np.hstack(parts) if parts else np.zeros((len(accounts), 0))


def abm_propensity_weights(
    accounts: pd.DataFrame,
    tier: str,
    *,
    covariates: tuple[str, ...] = DEFAULT_COVARIATES,
    max_weight_quantile: float | None = None,
    C: float = 1.0,
) -> pd.Series:
    """ATT odds weights of the non-ABM accounts against one tier.

    Parameters
    ----------
    accounts : DataFrame
        ``account_id``, ``abm_tier`` and the ``covariates``.
    tier : str
        The ABM tier the non-ABM cohort is reweighted to resemble.
    covariates : tuple of str
        Numeric columns are standardised (``annual_revenue`` on the log10
        scale, missing values median-imputed with a flag), the others
        one-hot encoded.
    max_weight_quantile : float or None, default=None
        Cap of the non-ABM weights (a quantile of them); None: no cap.
    C : float, default=1.0
        Inverse L2 strength of the logistic regression.

    Returns
    -------
    Series
        Indexed by ``account_id``: 1 for the tier's accounts,
        :math:`\\hat e_t(x)/\\hat e_{none}(x)` for non-ABM accounts, NaN for
        the other tiers.
    """
    from sklearn.linear_model import LogisticRegression

    who = "abm_propensity_weights"
    tiers = accounts["abm_tier"].astype("string").to_numpy()
    for name, n in ((tier, int((tiers == tier).sum())), (NON_ABM, int((tiers == NON_ABM).sum()))):
        if n == 0:
            raise DataValidationError(
                f"{who}: the {name!r} cohort is empty (abm_tier == {name!r} for no account); "
                "drop that tier from tiers= or use data with such accounts."
            )
    X = _design(accounts, tuple(covariates))
    model = LogisticRegression(C=C, max_iter=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        model.fit(X, tiers)
    proba = model.predict_proba(X)
    cls = list(model.classes_)
    odds = proba[:, cls.index(tier)] / np.maximum(proba[:, cls.index(NON_ABM)], 1e-12)
    w = np.full(len(accounts), np.nan)
    w[tiers == tier] = 1.0
    ctrl = tiers == NON_ABM
    wc = odds[ctrl]
    if max_weight_quantile is not None:
        wc = np.minimum(wc, np.quantile(wc, max_weight_quantile))
    w[ctrl] = wc
    return pd.Series(w, index=pd.Index(accounts["account_id"], name="account_id"), name="weight")


# ---------------------------------------------------------------------------
# per-cohort data and weighted metrics


def _contract_spells(
    contracts: pd.DataFrame, observation_end: pd.Timestamp, period_days: float, who: str
) -> pd.DataFrame:
    start = pd.to_datetime(contracts["start_date"], utc=True)
    end = pd.to_datetime(contracts["end_date"], utc=True)
    value = pd.to_numeric(contracts["annual_value"], errors="coerce").to_numpy(dtype=float)
    ok = start.notna().to_numpy() & (start <= observation_end).to_numpy()
    bad = ok & ~np.isfinite(value)
    if bad.any():
        raise DataValidationError(
            f"{who}: annual_value is missing or not a number for {int(bad.sum())} contract(s); fix or quarantine them."
        )
    period = pd.Timedelta(days=period_days)
    k = np.floor((observation_end - start) / period).to_numpy(dtype=float)
    ended = (end.notna() & (end <= observation_end)).to_numpy()
    dur = ((end - start) / period).to_numpy(dtype=float)
    t_churn = np.where(ended, np.maximum(1.0, np.ceil(np.nan_to_num(dur, nan=1.0))), 0.0)
    t_churn = np.minimum(t_churn, k + 1)
    frame = pd.DataFrame({
        "account_id": contracts["account_id"].to_numpy(),
        "churned": ended,
        "period": np.where(ended, t_churn, k),
        "value": value,
    })[ok]
    return frame[frame["churned"] | (frame["period"] >= 1)].reset_index(drop=True)


def _fit_weighted_sbg(period: np.ndarray, churned: np.ndarray, w: np.ndarray, K: int) -> ShiftedBetaGeometricModel:
    """sBG on weighted contract spells (the model's own likelihood on weighted counts)."""
    per = period.astype(np.int64) - 1
    churn = np.bincount(per[churned], weights=w[churned], minlength=K)[:K]
    alive_at = np.bincount(per[~churned], weights=w[~churned], minlength=K)[:K]
    t = np.arange(1, K + 1, dtype=float)
    model = ShiftedBetaGeometricModel()
    n0 = float(w.sum())
    model._fit_mle(_sbg_objective(t, churn, alive_at), np.array([1.0, 1.0]), n0, "abm_clv_effects (sBG)")
    model.n_cohorts_ = 1
    model.n_customers_ = int(round(n0))
    return model


def _metrics(
    w_deal: np.ndarray,
    w_spell: np.ndarray,
    deals: tuple[np.ndarray, np.ndarray],
    spells: tuple[np.ndarray, ...],
    K: int,
    d: float,
) -> np.ndarray:
    """(deal_size, first_year_churn, clv) of one cohort with account weights per population."""
    d_acc, d_amt = deals
    s_acc, s_period, s_churned, s_value = spells
    wd = w_deal[d_acc]
    deal = float(np.dot(wd, d_amt) / wd.sum()) if wd.sum() > 0 else np.nan
    ws = w_spell[s_acc]
    if ws.sum() <= 0 or not (ws[s_churned] > 0).any():
        return np.array([deal, np.nan, np.nan])
    sbg = _fit_weighted_sbg(s_period, s_churned, ws, K)
    churn1 = float(sbg.churn_probability(1))
    del_ = sbg.discounted_expected_lifetime(discount_rate=d)
    value = float(np.dot(ws, s_value) / ws.sum())
    return np.array([deal, churn1, value * del_])


def abm_clv_effects(
    tables: dict[str, pd.DataFrame],
    *,
    tiers: tuple[str, ...] | list[str] | None = None,
    observation_end: Any = None,
    discount_rate: float = 0.10,
    period_days: float = 365.0,
    covariates: tuple[str, ...] = DEFAULT_COVARIATES,
    max_weight_quantile: float | None = None,
    n_boot: int = 200,
    confidence: float = 0.95,
    random_state: int = 0,
) -> pd.DataFrame:
    """Deal size, first-year churn and CLV of each ABM tier against non-ABM accounts.

    Parameters
    ----------
    tables : dict of str to DataFrame
        ``accounts``, ``opportunities`` and ``contracts``.
    tiers : sequence of str, optional
        ABM tiers to compare with ``"none"``; default: the ABM tiers present
        in ``accounts``.
    observation_end : date-like, optional
        Data extraction date; default: the last ``closed_at`` /
        ``start_date`` / ``end_date`` in the tables.
    discount_rate : float, default=0.10
        Discount rate per renewal period (a year) of the CLV.
    period_days : float, default=365.0
        Renewal period of the contracts.
    covariates : tuple of str, default=("annual_revenue", "segment", "industry", "region", "business_unit")
        Observables of the propensity model.
    max_weight_quantile : float or None, default=None
        Cap of the non-ABM weights (see :func:`abm_propensity_weights`).
    n_boot : int, default=200
        Bootstrap replicates (0: no intervals).
    confidence : float, default=0.95
        Level of the percentile intervals.
    random_state : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    DataFrame
        One row per (``tier``, ``metric``, ``estimator``), estimator
        ``naive`` or ``adjusted``; columns ``abm_value``, ``non_abm_value``,
        ``difference``, ``difference_ci_low``, ``difference_ci_high``,
        ``ratio``, ``ratio_ci_low``, ``ratio_ci_high``, ``n_abm_accounts``,
        ``n_non_abm_accounts``, ``non_abm_effective_n`` (Kish,
        :math:`(\\sum w)^2/\\sum w^2`), ``n_boot``.

    Raises
    ------
    DataValidationError
        An empty cohort (no account, no won deal or no contract in a tier or
        in the non-ABM cohort), an unknown tier, or bad parameters.
    """
    who = "abm_clv_effects"
    covariates = tuple(covariates)
    _check_tables(tables, covariates, who)
    d = check_positive_scalar(discount_rate, "discount_rate", who)
    check_positive_scalar(period_days, "period_days", who)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise DataValidationError(f"{who}: n_boot must be a whole number >= 0; got {n_boot!r} (e.g. 200).")
    if not 0 < confidence < 1:
        raise DataValidationError(f"{who}: confidence must be in (0, 1); got {confidence!r} (e.g. 0.95).")
    accounts = tables["accounts"].reset_index(drop=True)
    if len(accounts) == 0:
        raise DataValidationError(f"{who}: the accounts table is empty.")
    tier_col = accounts["abm_tier"].astype("string").to_numpy()
    present = [t for t in ABM_ONLY_TIERS if (tier_col == t).any()]
    if tiers is None:
        tiers = present
    tiers = list(tiers)
    for t in tiers:
        if t not in ABM_ONLY_TIERS:
            raise DataValidationError(
                f"{who}: tier {t!r} is not an ABM tier; pass tiers among {list(ABM_ONLY_TIERS)}."
            )
    if not tiers:
        raise DataValidationError(
            f"{who}: no account has an ABM tier (abm_tier is 'none' everywhere); there is no ABM cohort to compare."
        )

    opp = tables["opportunities"]
    k_tab = tables["contracts"]
    if observation_end is None:
        stamps = [pd.to_datetime(opp["closed_at"], utc=True).max(),
                  pd.to_datetime(k_tab["start_date"], utc=True).max(),
                  pd.to_datetime(k_tab["end_date"], utc=True).max()]
        stamps = [s for s in stamps if s is not pd.NaT and pd.notna(s)]
        if not stamps:
            raise DataValidationError(f"{who}: no closed opportunity or contract; nothing to value.")
        end = max(stamps)
    else:
        end = _utc(observation_end, "observation_end", who)

    code = pd.Index(accounts["account_id"])
    closed = pd.to_datetime(opp["closed_at"], utc=True)
    won = (opp["is_won"].fillna(False).astype(bool) & closed.notna() & (closed <= end)).to_numpy()
    d_acc = code.get_indexer(opp["account_id"].to_numpy()[won])
    d_amt = pd.to_numeric(opp["amount"], errors="coerce").to_numpy(dtype=float)[won]
    keep = (d_acc >= 0) & np.isfinite(d_amt)
    d_acc, d_amt = d_acc[keep], d_amt[keep]
    spells = _contract_spells(k_tab, end, float(period_days), who)
    s_acc = code.get_indexer(spells["account_id"].to_numpy())
    spells = spells[s_acc >= 0]
    s_acc = s_acc[s_acc >= 0]
    s_period = spells["period"].to_numpy(dtype=float)
    s_churned = spells["churned"].to_numpy(dtype=bool)
    s_value = spells["value"].to_numpy(dtype=float)
    K = int(s_period.max()) if len(s_period) else 0
    if K < 2:
        warnings.warn(
            f"{who}: contracts are observed for at most {K} renewal period(s); the sBG heterogeneity is not "
            "identified, so only first_year_churn (and deal_size) are meaningful, not clv. Use a longer history.",
            UserWarning,
            stacklevel=2,
        )

    def cohort_data(mask: np.ndarray, name: str):
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            raise DataValidationError(
                f"{who}: the {name!r} cohort is empty (no account with abm_tier == {name!r}); "
                "drop it from tiers= or use data with such accounts."
            )
        local = np.full(len(accounts), -1)
        local[idx] = np.arange(idx.size)
        dm = local[d_acc] >= 0
        sm = local[s_acc] >= 0
        if not dm.any():
            raise DataValidationError(
                f"{who}: the {name!r} cohort has no won deal by {end.date()}; deal size and CLV are undefined. "
                "Drop it from tiers= or use a longer history."
            )
        if not (s_churned[sm]).any() or not sm.any():
            raise DataValidationError(
                f"{who}: the {name!r} cohort has no contract seen to churn or renew by {end.date()}; "
                "retention is undefined. Drop it from tiers= or use a longer history."
            )
        return idx, (local[d_acc[dm]], d_amt[dm]), (local[s_acc[sm]], s_period[sm], s_churned[sm], s_value[sm])

    ctrl_idx, ctrl_deals, ctrl_spells = cohort_data(tier_col == NON_ABM, NON_ABM)
    rng = np.random.default_rng(random_state)
    alpha = (1.0 - confidence) / 2.0
    rows = []
    for tier in tiers:
        tr_idx, tr_deals, tr_spells = cohort_data(tier_col == tier, tier)
        n_t, n_c = tr_idx.size, ctrl_idx.size
        # propensities within each analysis population (accounts with won deals; with contracts),
        # so that the covariates balance among the units each metric averages over
        both = np.r_[tr_idx, ctrl_idx]
        ipw = {}
        for pop, (acc_t, acc_c) in (("deal", (tr_deals[0], ctrl_deals[0])), ("spell", (tr_spells[0], ctrl_spells[0]))):
            has = np.r_[np.isin(np.arange(n_t), acc_t), np.isin(np.arange(n_c), acc_c)]
            w_pop = abm_propensity_weights(
                accounts.iloc[both[has]], tier, covariates=covariates, max_weight_quantile=max_weight_quantile
            ).to_numpy()
            w_all = np.zeros(both.size)
            w_all[has] = w_pop
            ipw[pop] = w_all[n_t:]
        one_t, one_c = np.ones(n_t), np.ones(n_c)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            m_tr = _metrics(one_t, one_t, tr_deals, tr_spells, K, d)
            m_naive = _metrics(one_c, one_c, ctrl_deals, ctrl_spells, K, d)
            m_adj = _metrics(ipw["deal"], ipw["spell"], ctrl_deals, ctrl_spells, K, d)
            boot = np.full((n_boot, 3, 3), np.nan)  # replicate, (tier, naive ctrl, adjusted ctrl), metric
            if n_boot:
                c_t = rng.multinomial(n_t, np.full(n_t, 1.0 / n_t), size=n_boot).astype(float)
                c_c = rng.multinomial(n_c, np.full(n_c, 1.0 / n_c), size=n_boot).astype(float)
                for b in range(n_boot):
                    boot[b, 0] = _metrics(c_t[b], c_t[b], tr_deals, tr_spells, K, d)
                    boot[b, 1] = _metrics(c_c[b], c_c[b], ctrl_deals, ctrl_spells, K, d)
                    boot[b, 2] = _metrics(c_c[b] * ipw["deal"], c_c[b] * ipw["spell"], ctrl_deals, ctrl_spells, K, d)
        for e, (estimator, ctrl_val) in enumerate((("naive", m_naive), ("adjusted", m_adj))):
            for j, metric in enumerate(METRICS):
                acc_used = ctrl_deals[0] if metric == "deal_size" else ctrl_spells[0]
                w = (ipw["deal"] if metric == "deal_size" else ipw["spell"]) if e else one_c
                w = w[np.unique(acc_used)]
                ess = float(w.sum() ** 2 / np.sum(w**2))
                diff_b = boot[:, 0, j] - boot[:, 1 + e, j]
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio_b = boot[:, 0, j] / boot[:, 1 + e, j]
                rows.append({
                    "tier": tier, "metric": metric, "estimator": estimator,
                    "abm_value": m_tr[j], "non_abm_value": ctrl_val[j],
                    "difference": m_tr[j] - ctrl_val[j],
                    "difference_ci_low": _quantile(diff_b, alpha), "difference_ci_high": _quantile(diff_b, 1 - alpha),
                    "ratio": m_tr[j] / ctrl_val[j] if ctrl_val[j] else np.nan,
                    "ratio_ci_low": _quantile(ratio_b, alpha), "ratio_ci_high": _quantile(ratio_b, 1 - alpha),
                    "n_abm_accounts": n_t, "n_non_abm_accounts": n_c, "non_abm_effective_n": ess,
                    "n_boot": int(np.isfinite(ratio_b).sum()),
                })
    return pd.DataFrame(rows)


def _quantile(values: np.ndarray, q: float) -> float:
    v = values[np.isfinite(values)]
    return float(np.quantile(v, q)) if v.size else np.nan
