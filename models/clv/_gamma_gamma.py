r"""Gamma-Gamma model of the monetary value of repeat transactions.

Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value"
(brucehardie.com note 025), after Colombo & Jiang (1999).

The story: a customer's transaction values :math:`z_1, \dots, z_x` are
i.i.d. :math:`\mathrm{Gamma}(p, \nu)` (shape, rate), so their mean is
:math:`E[Z] = p/\nu`; across customers :math:`\nu \sim \mathrm{Gamma}(q, \gamma)`.
Spend is assumed independent of the transaction process. The average
:math:`\bar z = m_x` of ``x`` repeat transactions has

.. math::

    f(m_x \mid p, q, \gamma, x) = \frac{\Gamma(px + q)}{\Gamma(px)\,\Gamma(q)}
      \frac{\gamma^q\, m_x^{px-1}\, x^{px}}{(\gamma + m_x x)^{px + q}},

so the log-likelihood of one repeat buyer is

.. math::

    \ell = \ln\Gamma(px+q) - \ln\Gamma(px) - \ln\Gamma(q) + q\ln\gamma
           + (px - 1)\ln m_x + px\ln x - (px + q)\ln(\gamma + m_x x)

with the analytic gradient

.. math::

    \partial_p\ell &= x\,[\psi(px+q) - \psi(px) + \ln(m_x x) - \ln(\gamma + m_x x)] \\
    \partial_q\ell &= \psi(px+q) - \psi(q) + \ln\gamma - \ln(\gamma + m_x x) \\
    \partial_\gamma\ell &= q/\gamma - (px + q)/(\gamma + m_x x).

The conditional expectation of a customer's mean spend is a
weighted mean of the population mean :math:`p\gamma/(q-1)` and her own
:math:`m_x`:

.. math::

    E[M \mid p, q, \gamma, m_x, x] = \frac{q - 1}{px + q - 1}\frac{p\gamma}{q - 1}
      + \frac{px}{px + q - 1} m_x = \frac{p(\gamma + m_x x)}{px + q - 1}.

Discounted CLV (the lifetimes convention): for monthly steps
:math:`k = 1..K`, the expected purchases of month :math:`k` from the
transaction model times the expected spend, discounted by :math:`(1+d)^{-k}`:

.. math::

    \mathrm{CLV} = \sum_{k=1}^{K} \frac{E[M]\,\big(E[Y(k f)] - E[Y((k-1) f)]\big)}{(1 + d)^k}

where :math:`f` is the number of the transaction model's time units per
month (4.345 weeks, 30 days, 720 hours, 1 month).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from features.errors import DataValidationError, SchemaError

from ._base import _MaximumLikelihoodModel
from ._validation import (
    check_finite,
    check_monetary,
    check_positive_scalar,
    check_sample_weight,
    check_summary,
)

__all__ = ["GammaGammaModel", "PERIODS_PER_MONTH"]

#: Time units of the transaction model per month, as in lifetimes' CLV.
PERIODS_PER_MONTH: dict[str, float] = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24.0}


def _gg_objective(x: np.ndarray, m: np.ndarray, weight: np.ndarray | None):
    """Negative log-likelihood and gradient over log-parameters.

    The gamma-function terms depend on a customer only through ``x``: they are
    computed once per distinct ``x``. Per customer remain one logarithm and
    one division.
    """
    w = np.ones_like(x) if weight is None else weight
    n_w = float(w.sum())
    mx = m * x
    wx = w * x
    ux, inv = np.unique(x, return_inverse=True)
    cnt = np.bincount(inv.reshape(-1), weights=w, minlength=ux.size)
    cnt_x = cnt * ux
    c_xlogmx = float(np.dot(wx, np.log(mx)))
    # terms that do not depend on the parameters: -ln m_x (Jacobian of the mean)
    const = -float(np.dot(w, np.log(m)))

    def objective(phi: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(phi)
        pu = p * ux
        log_gmx = np.log(v + mx)
        inv_gmx = 1.0 / (v + mx)
        a_x = float(np.dot(wx, log_gmx))  # sum w x ln(v + m x)
        b_1 = float(np.dot(w, log_gmx))  # sum w ln(v + m x)
        ll = (
            float(np.dot(cnt, gammaln(pu + q) - gammaln(pu)))
            + p * c_xlogmx
            - (p * a_x + q * b_1)
            + n_w * (q * np.log(v) - gammaln(q))
            + const
        )
        psi_pxq = digamma(pu + q)
        d_p = float(np.dot(cnt_x, psi_pxq - digamma(pu))) + c_xlogmx - a_x
        d_q = float(np.dot(cnt, psi_pxq)) - b_1 + n_w * (np.log(v) - digamma(q))
        d_v = n_w * q / v - (p * float(np.dot(wx, inv_gmx)) + q * float(np.dot(w, inv_gmx)))
        grad = np.array([d_p, d_q, d_v]) * np.exp(phi)
        return -ll, -grad

    return objective


class GammaGammaModel(_MaximumLikelihoodModel):
    """Gamma-Gamma model of average transaction value (Fader & Hardie 2013).

    Parameters
    ----------
    max_iter : int, default=1000
        Maximum number of L-BFGS-B iterations.
    tol : float, default=1e-8
        Convergence tolerance on the largest gradient component of the mean
        log-likelihood per customer (log-parameter scale).

    Attributes
    ----------
    params_ : dict of str to float
        Fitted ``p`` (shape of the transaction values), ``q`` and ``v`` (shape
        and rate, the note's gamma, of the customers' rate parameter).
    log_likelihood_ : float
        Total log-likelihood of the repeat buyers' mean spends.
    standard_errors_ : dict of str to float
    covariance_ : ndarray of shape (3, 3)
    n_customers_ : int
        Repeat buyers fitted.
    n_iter_ : int

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma Model of
    Monetary Value.

    Colombo, R., & Jiang, W. (1999). A stochastic RFM model. Journal of
    Interactive Marketing, 13(3), 2-12.
    """

    _param_names = ("p", "q", "v")

    def __init__(self, *, max_iter: int = 1000, tol: float = 1e-8) -> None:
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, summary: Any, y: None = None, *, sample_weight: Any = None) -> GammaGammaModel:
        """Fit on repeat buyers.

        Parameters
        ----------
        summary : DataFrame or array-like of shape (n_customers, 2)
            Columns ``frequency`` (>= 1) and ``monetary_value`` (> 0, the mean
            value of the repeat purchases). Keep only repeat buyers:
            ``summary[summary["frequency"] > 0]``.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_customers,), optional

        Returns
        -------
        self : GammaGammaModel
        """
        who = f"{type(self).__name__}.fit"
        x, m = check_monetary(summary, who)
        weight = check_sample_weight(sample_weight, x.shape[0], who)
        w = np.ones_like(x) if weight is None else weight
        self._fit_mle(_gg_objective(x, m, weight), np.array([1.0, 1.0, float(np.average(m, weights=w))]), float(w.sum()), who)
        self.n_customers_ = int(x.shape[0])
        return self

    def _frequency_monetary(self, summary: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(summary, pd.DataFrame):
            missing = [c for c in ("frequency", "monetary_value") if c not in summary.columns]
            if missing:
                raise SchemaError(
                    f"{who}: the summary is missing column(s) {missing}; pass "
                    "summary_from_transactions(..., value_col=...) output."
                )
            x = summary["frequency"].to_numpy(dtype=float)
            m = summary["monetary_value"].to_numpy(dtype=float)
            index = summary.index
        else:
            arr = np.asarray(summary, dtype=float)
            if arr.ndim != 2 or arr.shape[1] != 2:
                raise SchemaError(
                    f"{who}: expected columns frequency, monetary_value (a DataFrame or an "
                    f"array of shape (n_customers, 2)); got shape {arr.shape}."
                )
            x, m, index = arr[:, 0], arr[:, 1], None
        check_finite(x, "frequency", who, index)
        check_finite(m, "monetary_value", who, index)
        if np.any((x < 0) | (x != np.floor(x))):
            raise DataValidationError(
                f"{who}: frequency must be a non-negative whole number of repeat purchases."
            )
        if np.any(m < 0) or np.any((x > 0) & (m == 0)):
            raise DataValidationError(
                f"{who}: monetary_value must be > 0 for repeat buyers (and >= 0 otherwise); "
                "drop refunds or zero-value repeat buyers."
            )
        return x, m

    def expected_average_profit(self, summary: Any) -> np.ndarray:
        """Conditional expected mean transaction value.

        Customers with ``frequency == 0`` get the population mean
        ``p * v / (q - 1)``.

        Parameters
        ----------
        summary : DataFrame or array-like of shape (n_customers, 2)
            Columns ``frequency`` and ``monetary_value``.

        Returns
        -------
        ndarray of shape (n_customers,)
        """
        x, m = self._frequency_monetary(summary, f"{type(self).__name__}.expected_average_profit")
        p, q, v = self._theta()
        m = np.where(x > 0, m, 0.0)
        return p * (v + m * x) / (p * x + q - 1.0)

    def population_mean_spend(self) -> float:
        """Mean transaction value of a customer drawn at random, ``p v / (q - 1)`` (needs q > 1)."""
        p, q, v = self._theta()
        return p * v / (q - 1.0) if q > 1.0 else float("inf")

    def customer_lifetime_value(
        self,
        transaction_model: Any,
        summary: pd.DataFrame,
        *,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "W",
    ) -> np.ndarray:
        """Discounted CLV over ``time`` months (the lifetimes convention).

        Parameters
        ----------
        transaction_model : BetaGeoModel or ParetoNBDModel
            A fitted model with ``expected_purchases(t, summary)``.
        summary : DataFrame
            Columns ``frequency``, ``recency``, ``T`` (in the transaction
            model's time unit) and ``monetary_value``.
        time : int, default=12
            Horizon in months.
        discount_rate : float, default=0.01
            Monthly discount rate ``d``.
        freq : {"W", "D", "H", "M"}, default="W"
            Time unit of ``recency`` and ``T``; sets the time units per month.

        Returns
        -------
        ndarray of shape (n_customers,)
        """
        who = f"{type(self).__name__}.customer_lifetime_value"
        if freq not in PERIODS_PER_MONTH:
            raise DataValidationError(
                f"{who}: freq must be one of {sorted(PERIODS_PER_MONTH)} (the time unit of "
                f"recency and T); got {freq!r}."
            )
        if int(time) != time or time < 1:
            raise DataValidationError(f"{who}: time must be a whole number of months >= 1; got {time!r}.")
        d = check_positive_scalar(discount_rate, "discount_rate", who, allow_zero=True)
        rfm = summary[["frequency", "recency", "T"]] if isinstance(summary, pd.DataFrame) else summary
        check_summary(rfm, who)
        spend = self.expected_average_profit(summary)
        factor = PERIODS_PER_MONTH[freq]
        months = np.arange(1, int(time) + 1, dtype=float)
        cumulative = np.column_stack(
            [np.zeros(len(spend))] + [transaction_model.expected_purchases(k * factor, rfm) for k in months]
        )
        per_month = np.diff(cumulative, axis=1)
        return spend * (per_month @ (1.0 + d) ** -months)
