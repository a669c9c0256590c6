r"""Shifted-beta-geometric (sBG) model of contractual retention.

Fader & Hardie (2007), "How to Project Customer Retention", *Journal of
Interactive Marketing* 21(1), 76-90; residual value from Fader & Hardie
(2010), "Customer-Base Valuation in a Contractual Setting: The Perils of
Ignoring Heterogeneity", *Marketing Science* 29(1), 85-93.

The story: at the end of each period a customer cancels with probability
:math:`\theta`, constant for her, and :math:`\theta \sim \mathrm{Beta}(\alpha, \beta)`
across customers. The lifetime :math:`T \in \{1, 2, \dots\}` (the period in
which she churns) then has

.. math::

    P(T = t) = \frac{B(\alpha + 1, \beta + t - 1)}{B(\alpha, \beta)}, \qquad
    S(t) = P(T > t) = \frac{B(\alpha, \beta + t)}{B(\alpha, \beta)},

and the retention rate :math:`r_t = S(t)/S(t-1) = (\beta + t - 1)/(\alpha + \beta + t - 1)`
rises with tenure (the survivors are the loyal ones).

**Fit.** A cohort of :math:`n_0` customers with :math:`n_t` still active at the
end of periods :math:`t = 1..k` contributes

.. math::

    \ell(\alpha, \beta) = \sum_{t=1}^{k} (n_{t-1} - n_t)\ln P(T = t) + n_k \ln S(k),

and several cohorts (different start years, observed for different
:math:`k`) share :math:`(\alpha, \beta)` by summing their terms. With
:math:`\ln B(a, b)` derivatives :math:`\psi(a) - \psi(a+b)`, the gradient is
analytic:

.. math::

    \partial_\alpha \ln P(T=t) &= \psi(\alpha+1) - \psi(\alpha) + \psi(\alpha+\beta) - \psi(\alpha+\beta+t) \\
    \partial_\beta \ln P(T=t) &= \psi(\beta+t-1) - \psi(\beta) + \psi(\alpha+\beta) - \psi(\alpha+\beta+t) \\
    \partial_\alpha \ln S(t) &= \psi(\alpha+\beta) - \psi(\alpha+\beta+t) \\
    \partial_\beta \ln S(t) &= \psi(\beta+t) - \psi(\beta) + \psi(\alpha+\beta) - \psi(\alpha+\beta+t)

**Value.** With per-period discount rate :math:`d` and cash flows at the start
of each period, a customer who has been active for :math:`n \ge 1` periods
(made :math:`n - 1` renewals), valued just before her :math:`n`-th renewal
decision, has discounted expected residual lifetime (2010)

.. math::

    \mathrm{DERL}(d \mid \alpha, \beta, n) = \sum_{t=n}^{\infty} \frac{S(t)}{S(n-1)}
      (1+d)^{-(t-n)} = \frac{B(\alpha, \beta + n)}{B(\alpha, \beta + n - 1)}\,
      {}_2F_1\Big(1, \beta + n; \alpha + \beta + n; \frac{1}{1+d}\Big),

and a brand-new customer's discounted expected lifetime, counting her first
payment, is :math:`\mathrm{DEL}(d) = {}_2F_1(1, \beta; \alpha + \beta; 1/(1+d))`.
Residual CLV is the per-period contract value times DERL.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, hyp2f1

from features.dates import to_utc
from features.errors import DataValidationError, SchemaError

from ._base import _MaximumLikelihoodModel
from ._validation import check_positive_scalar

__all__ = ["ShiftedBetaGeometricModel", "survival_from_contracts", "fit_survival_by_segment"]


def _check_survival(survival: Any, who: str) -> list[np.ndarray]:
    """Return a list of validated survival curves (counts at periods 0..k)."""
    if isinstance(survival, pd.DataFrame):
        rows = [(str(idx), row.to_numpy(dtype=float)) for idx, row in survival.iterrows()]
    elif isinstance(survival, pd.Series):
        rows = [("survival", survival.to_numpy(dtype=float))]
    else:
        if isinstance(survival, (list, tuple)) and len(survival) and np.ndim(survival[0]) == 1:
            rows = [(f"cohort {i}", np.asarray(c, dtype=float)) for i, c in enumerate(survival)]
        else:
            arr = np.asarray(survival, dtype=float)
            if arr.ndim == 1:
                rows = [("survival", arr)]
            elif arr.ndim == 2:
                rows = [(f"cohort {i}", arr[i]) for i in range(arr.shape[0])]
            else:
                raise SchemaError(
                    f"{who}: survival must be a 1-D curve or a 2-D (cohort, period) table; "
                    f"got shape {arr.shape}."
                )
    if not rows:
        raise DataValidationError(f"{who}: no cohorts given; pass at least one survival curve.")
    curves = []
    for name, row in rows:
        # trailing NaN pads a shorter (younger) cohort in a table; NaN inside is refused
        observed = ~np.isnan(row)
        k = int(observed.sum())
        if k and not observed[:k].all():
            gap = int(np.flatnonzero(~observed[:k])[0])
            raise DataValidationError(
                f"{who}: {name} has a missing count at period {gap} before later counts; "
                "only trailing periods (not yet observed) may be missing."
            )
        curve = row[:k]
        if k == 0 or curve[0] <= 0:
            raise DataValidationError(
                f"{who}: {name} is empty (no customers at period 0); drop empty cohorts "
                "before fitting."
            )
        if k < 2:
            raise DataValidationError(
                f"{who}: {name} has only the period-0 count; at least one later period is "
                "needed to see any churn."
            )
        if not np.all(np.isfinite(curve)):
            raise DataValidationError(f"{who}: {name} has an infinite count; counts must be finite.")
        if np.any(curve < 0) or np.any(curve != np.floor(curve)):
            bad = int(np.flatnonzero((curve < 0) | (curve != np.floor(curve)))[0])
            raise DataValidationError(
                f"{who}: {name} period {bad} has count {curve[bad]!r}; counts of customers "
                "alive must be whole numbers >= 0."
            )
        up = np.diff(curve) > 0
        if up.any():
            t = int(np.flatnonzero(up)[0]) + 1
            raise DataValidationError(
                f"{who}: {name} survival counts increase from period {t - 1} ({curve[t - 1]:g}) "
                f"to period {t} ({curve[t]:g}); a cohort can only lose customers. Count each "
                "cohort's own customers only (new customers start a new cohort)."
            )
        curves.append(curve)
    return curves


def _sbg_sufficient(curves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Churn counts per period t = 1..K and survivor counts at the horizon k of each cohort."""
    K = max(c.size for c in curves) - 1
    churn = np.zeros(K)
    alive_at = np.zeros(K)  # alive_at[k-1]: customers still active at the end of their last period k
    for c in curves:
        k = c.size - 1
        churn[:k] += -np.diff(c)
        alive_at[k - 1] += c[-1]
    t = np.arange(1, K + 1, dtype=float)
    return t, churn, alive_at


def _sbg_objective(t: np.ndarray, churn: np.ndarray, alive_at: np.ndarray):
    def objective(phi: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = np.exp(phi)
        bl = betaln(a, b)
        log_p = betaln(a + 1.0, b + t - 1.0) - bl
        log_s = betaln(a, b + t) - bl
        ll = float(np.dot(churn, log_p) + np.dot(alive_at, log_s))
        psi_ab, psi_abt = digamma(a + b), digamma(a + b + t)
        dp_a = digamma(a + 1.0) - digamma(a) + psi_ab - psi_abt
        dp_b = digamma(b + t - 1.0) - digamma(b) + psi_ab - psi_abt
        ds_a = psi_ab - psi_abt
        ds_b = digamma(b + t) - digamma(b) + psi_ab - psi_abt
        grad = np.array(
            [np.dot(churn, dp_a) + np.dot(alive_at, ds_a), np.dot(churn, dp_b) + np.dot(alive_at, ds_b)]
        ) * np.exp(phi)
        return -ll, -grad

    return objective


class ShiftedBetaGeometricModel(_MaximumLikelihoodModel):
    """Shifted-beta-geometric retention model (Fader & Hardie 2007).

    Parameters
    ----------
    max_iter : int, default=1000
        Maximum number of L-BFGS-B iterations.
    tol : float, default=1e-9
        Convergence tolerance on the largest gradient component of the mean
        log-likelihood per customer (log-parameter scale).

    Attributes
    ----------
    params_ : dict of str to float
        Fitted ``alpha`` and ``beta`` of the beta distribution of the
        per-period churn probability.
    log_likelihood_ : float
    standard_errors_ : dict of str to float
    covariance_ : ndarray of shape (2, 2)
    n_cohorts_ : int
        Survival curves fitted.
    n_customers_ : int
        Customers at period 0, summed over cohorts.
    n_iter_ : int

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2007). How to project customer
    retention. Journal of Interactive Marketing, 21(1), 76-90.

    Fader, P. S., & Hardie, B. G. S. (2010). Customer-base valuation in a
    contractual setting: The perils of ignoring heterogeneity. Marketing
    Science, 29(1), 85-93.
    """

    _param_names = ("alpha", "beta")

    def __init__(self, *, max_iter: int = 1000, tol: float = 1e-9) -> None:
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, survival: Any, y: None = None) -> ShiftedBetaGeometricModel:
        """Fit on one or several survival curves.

        Parameters
        ----------
        survival : array-like of shape (k + 1,), list of such arrays, or DataFrame
            Customers still active at periods ``0, 1, ..., k`` (period 0 is the
            cohort size). Several curves (a list, a 2-D array or a DataFrame with
            one row per cohort, trailing NaN for periods not yet observed, as
            built by :func:`survival_from_contracts`) share the parameters.
        y : None
            Ignored.

        Returns
        -------
        self : ShiftedBetaGeometricModel
        """
        who = f"{type(self).__name__}.fit"
        curves = _check_survival(survival, who)
        t, churn, alive_at = _sbg_sufficient(curves)
        n0 = float(sum(c[0] for c in curves))
        self._fit_mle(_sbg_objective(t, churn, alive_at), np.array([1.0, 1.0]), n0, who)
        self.n_cohorts_ = len(curves)
        self.n_customers_ = int(n0)
        return self

    def survival(self, periods: Any) -> np.ndarray:
        """S(t): share of a new cohort still active after ``t`` periods (S(0) = 1).

        Parameters
        ----------
        periods : int or array-like of int >= 0

        Returns
        -------
        ndarray of the shape of ``periods``
        """
        t = self._periods(periods, "periods", minimum=0)
        a, b = self._theta()
        return np.exp(betaln(a, b + t) - betaln(a, b))

    def retention_rate(self, periods: Any) -> np.ndarray:
        """r_t = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1), for t >= 1.

        Parameters
        ----------
        periods : int or array-like of int >= 1

        Returns
        -------
        ndarray of the shape of ``periods``
        """
        t = self._periods(periods, "periods", minimum=1)
        a, b = self._theta()
        return (b + t - 1.0) / (a + b + t - 1.0)

    def churn_probability(self, periods: Any) -> np.ndarray:
        """P(T = t): share of a new cohort that churns in period ``t`` >= 1."""
        t = self._periods(periods, "periods", minimum=1)
        a, b = self._theta()
        return np.exp(betaln(a + 1.0, b + t - 1.0) - betaln(a, b))

    def discounted_expected_residual_lifetime(self, tenure: Any, *, discount_rate: float) -> np.ndarray:
        """DERL of a customer active for ``tenure`` periods (Fader & Hardie 2010).

        Parameters
        ----------
        tenure : int or array-like of int >= 1
            Periods the customer has been active (``n``: renewals made + 1);
            she is valued just before her next renewal decision.
        discount_rate : float
            Per-period discount rate ``d`` > 0.

        Returns
        -------
        ndarray of the shape of ``tenure``
            Expected discounted number of future payments.
        """
        who = f"{type(self).__name__}.discounted_expected_residual_lifetime"
        d = check_positive_scalar(discount_rate, "discount_rate", who)
        n = self._periods(tenure, "tenure", minimum=1)
        a, b = self._theta()
        return (b + n - 1.0) / (a + b + n - 1.0) * _hyp2f1_unit(b + n, a + b + n, 1.0 / (1.0 + d))

    def discounted_expected_lifetime(self, *, discount_rate: float) -> float:
        """DEL of a new customer, first payment included: 2F1(1, beta; alpha + beta; 1/(1+d))."""
        d = check_positive_scalar(discount_rate, "discount_rate", f"{type(self).__name__}.discounted_expected_lifetime")
        a, b = self._theta()
        return float(_hyp2f1_unit(np.asarray(b), a + b, 1.0 / (1.0 + d)))

    def customer_lifetime_value(self, contract_value: Any, tenure: Any, *, discount_rate: float) -> np.ndarray:
        """Residual CLV = per-period contract value x DERL(tenure).

        Parameters
        ----------
        contract_value : float or array-like
            Value of one period of the contract (e.g. annual_value for yearly
            periods), paid at each renewal.
        tenure : int or array-like of int >= 1
        discount_rate : float

        Returns
        -------
        ndarray
        """
        value = np.asarray(contract_value, dtype=float)
        if not np.all(np.isfinite(value)) or np.any(value < 0):
            raise DataValidationError(
                f"{type(self).__name__}.customer_lifetime_value: contract_value must be finite "
                f"and >= 0; got {contract_value!r}."
            )
        return value * self.discounted_expected_residual_lifetime(tenure, discount_rate=discount_rate)

    def _periods(self, periods: Any, name: str, *, minimum: int) -> np.ndarray:
        self._theta()
        t = np.asarray(periods, dtype=float)
        if not np.all(np.isfinite(t)) or np.any(t < minimum) or np.any(t != np.floor(t)):
            raise DataValidationError(
                f"{type(self).__name__}: {name} must be whole numbers >= {minimum}; got {periods!r}."
            )
        return t


def _hyp2f1_unit(b: np.ndarray, c: np.ndarray, z: float) -> np.ndarray:
    """2F1(1, b; c; z) for 0 <= z < 1, summing the series where scipy gives up.

    ``scipy.special.hyp2f1`` returns NaN for very large ``b`` and ``c`` (nearly
    homogeneous churn, alpha and beta in the millions); the series
    sum_k prod_j<k (b+j)/(c+j) z^k has positive terms shrinking at least as
    fast as z^k, so a direct sum is exact to rounding there.
    """
    b, c = np.broadcast_arrays(np.asarray(b, dtype=float), np.asarray(c, dtype=float))
    out = np.asarray(hyp2f1(1.0, b, c, z), dtype=float).copy()
    bad = ~np.isfinite(out)
    if bad.any():
        n_terms = int(min(np.ceil(np.log(1e-18) / np.log(z)), 10**6)) + 1
        j = np.arange(n_terms - 1, dtype=float)
        for idx in zip(*np.nonzero(bad)) if out.ndim else [()]:
            log_ratio = np.log((b[idx] + j) / (c[idx] + j)) + np.log(z)
            out[idx] = 1.0 + np.exp(np.cumsum(log_ratio)).sum()
    return out


_CONTRACT_COLUMNS = ("contract_id", "account_id", "start_date", "end_date")


def _utc(values: pd.Series, name: str, who: str) -> pd.Series:
    try:
        out = pd.to_datetime(values, utc=True)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"{who}: {name} has a value that is not a date ({exc}).") from None
    return out


def survival_from_contracts(
    contracts: pd.DataFrame,
    *,
    observation_end: Any,
    segment_col: str | None = None,
    period_months: int = 12,
) -> pd.DataFrame:
    """Yearly survival counts per start cohort (and segment) from a contracts table.

    The unit is the account: an account's relationship starts at its first
    contract's ``start_date`` and ends at the latest ``end_date`` once all of
    its contracts have ended (any null ``end_date`` means still active; gaps
    between contracts are ignored). The cohort is the calendar year of the
    start. An account is alive at period ``t`` if its relationship has not
    ended by its ``t``-th anniversary; period ``t`` is observed only if that
    anniversary is on or before ``observation_end``.

    Parameters
    ----------
    contracts : DataFrame
        Columns ``contract_id``, ``account_id``, ``start_date``, ``end_date``
        (the contracts contract of DESIGN.md), plus ``segment_col`` if given.
    observation_end : date-like
        The data extraction date.
    segment_col : str, optional
        Column to split by (constant per account), e.g. ``segment`` or
        ``abm_tier`` merged from the accounts table.
    period_months : int, default=12
        Period length (12: yearly renewals).

    Returns
    -------
    DataFrame
        Index ``cohort`` (or ``(segment_col, cohort)``); columns ``0..K`` with
        the accounts alive at each period, NaN where not yet observed. Ready for
        :meth:`ShiftedBetaGeometricModel.fit`.
    """
    who = "survival_from_contracts"
    cols = list(_CONTRACT_COLUMNS) + ([segment_col] if segment_col else [])
    missing = [c for c in cols if c not in contracts.columns]
    if missing:
        raise SchemaError(
            f"{who}: contracts is missing column(s) {missing} (expected {cols}); "
            "merge the segment column from accounts first if you split by segment."
        )
    if len(contracts) == 0:
        raise DataValidationError(f"{who}: the contracts table is empty; nothing to build survival from.")
    end_obs = to_utc(observation_end, f"{who}: observation_end", error=DataValidationError)
    start = _utc(contracts["start_date"], "start_date", who)
    end = _utc(contracts["end_date"], "end_date", who)
    if start.isna().any():
        row = contracts.index[int(np.flatnonzero(start.isna().to_numpy())[0])]
        raise DataValidationError(
            f"{who}: start_date is missing at row {row!r}; every contract needs a start date."
        )
    bad = (end < start).fillna(False).to_numpy()
    if bad.any():
        row = contracts.index[int(np.flatnonzero(bad)[0])]
        raise DataValidationError(
            f"{who}: end_date is before start_date at row {row!r}; fix or quarantine that contract."
        )
    if (start > end_obs).any():
        row = contracts.index[int(np.flatnonzero((start > end_obs).to_numpy())[0])]
        raise DataValidationError(
            f"{who}: start_date is after observation_end ({end_obs.date()}) at row {row!r}; "
            "pass a later observation_end or drop future contracts."
        )
    frame = pd.DataFrame(
        {"account_id": contracts["account_id"].to_numpy(), "start": start.to_numpy(), "end": end.to_numpy()}
    )
    # an ended relationship after the observation end is still active at it
    frame["open"] = frame["end"].isna() | (frame["end"] > end_obs)
    if segment_col:
        frame["segment"] = contracts[segment_col].to_numpy()
        n_seg = frame.groupby("account_id")["segment"].nunique(dropna=False)
        if (n_seg > 1).any():
            acc = n_seg.index[int(np.flatnonzero((n_seg > 1).to_numpy())[0])]
            raise DataValidationError(
                f"{who}: account {acc!r} has contracts in several {segment_col} values; "
                "the segment must be constant per account."
            )
    grouped = frame.groupby("account_id", sort=False)
    acc = pd.DataFrame(
        {"start": grouped["start"].min(), "end": grouped["end"].max(), "open": grouped["open"].any()}
    )
    if segment_col:
        acc["segment"] = grouped["segment"].first()
    acc.loc[acc["open"], "end"] = pd.NaT
    acc["cohort"] = acc["start"].dt.year
    # whole periods observed by the observation end, and lived before the end
    observed = _whole_months(acc["start"], pd.Series(end_obs, index=acc.index), strict=False)
    acc["observed"] = (observed // period_months).astype(np.int64)
    lived = _whole_months(acc["start"], acc["end"], strict=True) // period_months
    acc["lived"] = np.where(np.isnan(lived), 1e9, np.maximum(lived, 0)).astype(np.int64)
    K = int(acc["observed"].max())
    keys = ["segment", "cohort"] if segment_col else ["cohort"]
    out = {}
    for key, g in acc.groupby(keys, sort=True):
        k_obs = int(g["observed"].min())  # a cohort is observed as far as its youngest account
        lived_k = np.minimum(g["lived"].to_numpy(), k_obs)
        alive = np.cumsum(np.bincount(lived_k, minlength=k_obs + 1)[::-1])[::-1]
        counts = np.full(K + 1, np.nan)
        counts[: k_obs + 1] = alive
        out[key if isinstance(key, tuple) else (key,)] = counts
    table = pd.DataFrame(list(out.values()), columns=pd.RangeIndex(K + 1))
    if segment_col:
        table.index = pd.MultiIndex.from_tuples(list(out), names=[segment_col, "cohort"])
    else:
        table.index = pd.Index([k[0] for k in out], name="cohort")
    return table


def _whole_months(start: pd.Series, end: pd.Series, *, strict: bool) -> np.ndarray:
    """Whole calendar months m with start + m months <= end (< end when ``strict``); NaN for NaT."""
    months = ((end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)).to_numpy(dtype=float)
    end_in_month = ((end.dt.day - 1) * pd.Timedelta(days=1) + (end - end.dt.floor("D"))).to_numpy()
    start_in_month = ((start.dt.day - 1) * pd.Timedelta(days=1) + (start - start.dt.floor("D"))).to_numpy()
    short = end_in_month <= start_in_month if strict else end_in_month < start_in_month
    return months - short.astype(float)


def fit_survival_by_segment(
    contracts: pd.DataFrame,
    *,
    observation_end: Any,
    segment_col: str | None = None,
    period_months: int = 12,
    max_iter: int = 1000,
) -> dict[Any, ShiftedBetaGeometricModel]:
    """Fit one sBG per segment, jointly on that segment's start cohorts.

    Builds the survival table with :func:`survival_from_contracts` and fits
    each segment's cohorts with shared ``(alpha, beta)``. Cohorts observed for
    less than one full period carry no churn information and are left out of
    the fit (they remain in the survival table).

    Parameters
    ----------
    contracts : DataFrame
        See :func:`survival_from_contracts`.
    observation_end : date-like
    segment_col : str, optional
        Without it, one model is fitted on all cohorts (key ``"all"``).
    period_months : int, default=12
    max_iter : int, default=1000

    Returns
    -------
    dict
        Segment value -> fitted :class:`ShiftedBetaGeometricModel`.
    """
    table = survival_from_contracts(
        contracts, observation_end=observation_end, segment_col=segment_col, period_months=period_months
    )
    informative = table[table.notna().sum(axis=1) >= 2]
    if informative.empty:
        raise DataValidationError(
            "fit_survival_by_segment: no cohort has been observed for a full period yet "
            f"(observation_end {observation_end!r}); nothing to fit."
        )
    if segment_col is None:
        return {"all": ShiftedBetaGeometricModel(max_iter=max_iter).fit(informative)}
    models = {}
    for segment, cohorts in informative.groupby(level=segment_col, sort=True):
        models[segment] = ShiftedBetaGeometricModel(max_iter=max_iter).fit(cohorts.droplevel(segment_col))
    return models
