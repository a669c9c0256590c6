r"""BG/NBD: the beta-geometric / negative binomial model of repeat buying.

Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An
Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284.

The story, for one customer observed from her first purchase (time 0) to
``T``, with ``x`` repeat purchases, the last at ``t_x``:

* while active, she buys as a Poisson process of rate :math:`\lambda`;
* after each repeat purchase she drops out for good with probability :math:`p`;
* across customers :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` (shape, rate)
  and :math:`p \sim \mathrm{Beta}(a, b)`, independently.

Individual likelihood, integrated over :math:`\lambda` and :math:`p`:

.. math::

    L(r, \alpha, a, b \mid x, t_x, T) =
      \frac{B(a, b + x)}{B(a, b)} \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + T)^{r + x}}
      + \delta_{x > 0}\,\frac{B(a + 1, b + x - 1)}{B(a, b)}
        \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + t_x)^{r + x}}

computed in log space as
:math:`\ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha - \ln B(a,b) + \operatorname{logaddexp}(u_1, u_2)`
with :math:`u_1 = \ln B(a, b+x) - (r+x)\ln(\alpha+T)` and
:math:`u_2 = \ln B(a+1, b+x-1) - (r+x)\ln(\alpha+t_x)` (:math:`-\infty` when
:math:`x = 0`). With :math:`w_k = e^{u_k - \operatorname{logaddexp}(u_1,u_2)}`
the gradient is analytic:

.. math::

    \partial_r \ell &= \psi(r+x) - \psi(r) + \ln\alpha - w_1\ln(\alpha+T) - w_2\ln(\alpha+t_x) \\
    \partial_\alpha \ell &= r/\alpha - (r+x)\,[w_1/(\alpha+T) + w_2/(\alpha+t_x)] \\
    \partial_a \ell &= \psi(a+b) - \psi(a) + w_1[\psi(a) - \psi(a+b+x)] + w_2[\psi(a+1) - \psi(a+b+x)] \\
    \partial_b \ell &= \psi(a+b) - \psi(b) + w_1[\psi(b+x) - \psi(a+b+x)] + w_2[\psi(b+x-1) - \psi(a+b+x)]

Every term that depends on the customer only through the integer ``x`` is
computed once per distinct ``x`` and gathered, so one evaluation costs a few
logarithms and exponentials per customer.

Predictions (the paper, and Fader, Hardie & Lee's note on P(alive)):

.. math::

    E[X(t)] &= \frac{a+b-1}{a-1}\Big[1 - \big(\tfrac{\alpha}{\alpha+t}\big)^r
               {}_2F_1\big(r, b; a+b-1; \tfrac{t}{\alpha+t}\big)\Big] \\
    E[Y(t) \mid x, t_x, T] &= \frac{\frac{a+b+x-1}{a-1}\Big[1 - \big(\frac{\alpha+T}{\alpha+T+t}\big)^{r+x}
        {}_2F_1\big(r+x, b+x; a+b+x-1; \frac{t}{\alpha+T+t}\big)\Big]}
        {1 + \delta_{x>0}\frac{a}{b+x-1}\big(\frac{\alpha+T}{\alpha+t_x}\big)^{r+x}} \\
    P(\text{alive} \mid x, t_x, T) &= \Big[1 + \delta_{x>0}\frac{a}{b+x-1}
        \big(\tfrac{\alpha+T}{\alpha+t_x}\big)^{r+x}\Big]^{-1}

The hypergeometric factor is evaluated after Euler's transformation,
:math:`(1-z)^{r+x}\,{}_2F_1(r+x, b+x; c; z) = (1-z)^{a-1}\,{}_2F_1(a+b-1-r, a-1; c; z)`
with :math:`c = a+b+x-1`, whose parameters stay small for heavy buyers (the
untransformed series has parameters that grow with ``x`` and loses precision).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from ._base import _MaximumLikelihoodModel
from ._validation import check_sample_weight, check_summary, check_times

__all__ = ["BetaGeoModel"]


def _bgnbd_objective(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weight: np.ndarray | None
):
    r"""Build the negative log-likelihood (and its gradient) over log-parameters.

    Customers without repeat purchase contribute :math:`r\ln\alpha - r\ln(\alpha+T)`
    only (no dropout can have happened), so they cost one logarithm and one
    division; the others go through the full two-term mixture.
    """
    w = np.ones_like(T) if weight is None else weight
    zero = x == 0
    w0, T0 = w[zero], T[zero]
    n0 = float(w0.sum())
    rep = ~zero
    x1, t1, T1, w1_ = x[rep], t_x[rep], T[rep], w[rep]
    n1 = float(w1_.sum())
    ux, inv = np.unique(x1, return_inverse=True)
    inv = inv.reshape(-1)
    cnt = np.bincount(inv, weights=w1_, minlength=ux.size)

    def objective(phi: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(phi)
        log_alpha = np.log(alpha)
        # customers with x = 0: likelihood (alpha / (alpha + T))^r
        log_aT0 = np.log(alpha + T0)
        sum_log0 = float(np.dot(w0, log_aT0))
        ll = n0 * r * log_alpha - r * sum_log0
        d_r = n0 * log_alpha - sum_log0
        d_alpha = n0 * r / alpha - r * float(np.dot(w0, 1.0 / (alpha + T0)))
        d_a = d_b = 0.0
        if n1 > 0:
            # terms of the distinct x values
            g1 = gammaln(r + ux) - gammaln(r)
            bl1 = betaln(a, b + ux)
            bl2 = betaln(a + 1.0, b + ux - 1.0)
            psi_abx = digamma(a + b + ux)
            dbl1_da = digamma(a) - psi_abx
            dbl1_db = digamma(b + ux) - psi_abx
            dbl2_da = digamma(a + 1.0) - psi_abx
            dbl2_db = digamma(b + ux - 1.0) - psi_abx
            # per-customer terms: m = logaddexp(u1, u2) with the weights of both terms
            log_aT = np.log(alpha + T1)
            log_at = np.log(alpha + t1)
            rx = r + x1
            u1 = bl1[inv] - rx * log_aT
            u2 = bl2[inv] - rx * log_at
            m = np.logaddexp(u1, u2)
            w1 = np.exp(u1 - m)
            ww1 = w1_ * w1
            ww2 = w1_ - ww1
            s1 = np.bincount(inv, weights=ww1, minlength=ux.size)
            s2 = cnt - s1
            psi_ab = digamma(a + b)
            ll += float(np.dot(cnt, g1) + np.dot(w1_, m)) + n1 * (r * log_alpha - betaln(a, b))
            d_r += (
                float(np.dot(cnt, digamma(r + ux) - digamma(r)))
                + n1 * log_alpha
                - float(np.dot(ww1, log_aT) + np.dot(ww2, log_at))
            )
            d_alpha += n1 * r / alpha - float(np.dot(ww1 * rx, 1.0 / (alpha + T1)) + np.dot(ww2 * rx, 1.0 / (alpha + t1)))
            d_a = n1 * (psi_ab - digamma(a)) + float(np.dot(s1, dbl1_da) + np.dot(s2, dbl2_da))
            d_b = n1 * (psi_ab - digamma(b)) + float(np.dot(s1, dbl1_db) + np.dot(s2, dbl2_db))
        grad = np.array([d_r, d_alpha, d_a, d_b]) * np.exp(phi)
        return -ll, -grad

    return objective


def _log_alive_odds(params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """log of a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x); -inf where x = 0."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    repeat = x > 0
    bx1 = np.where(repeat, b + x - 1.0, 1.0)
    out = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, out, -np.inf)


def _one_minus_power_hyp(a: float, b: float, r: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)) / (a-1), stable near a = 1."""
    f = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    return -np.expm1((a - 1.0) * np.log1p(-z) + np.log(f)) / (a - 1.0)


class BetaGeoModel(_MaximumLikelihoodModel):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

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
        Fitted ``r``, ``alpha`` (purchase rate heterogeneity, gamma shape and
        rate) and ``a``, ``b`` (dropout probability heterogeneity, beta).
    log_likelihood_ : float
        Total log-likelihood of the fitted summary at ``params_``.
    standard_errors_ : dict of str to float
        Asymptotic standard errors (inverse Hessian, delta method).
    covariance_ : ndarray of shape (4, 4)
        Asymptotic covariance of ``(r, alpha, a, b)``.
    n_customers_ : int
        Number of summary rows fitted.
    n_iter_ : int
        Optimiser iterations.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting Your
    Customers" the Easy Way: An Alternative to the Pareto/NBD Model.
    Marketing Science, 24(2), 275-284.

    Examples
    --------
    >>> model = BetaGeoModel().fit(summary)  # doctest: +SKIP
    >>> model.params_  # doctest: +SKIP
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """

    _param_names = ("r", "alpha", "a", "b")

    def __init__(self, *, max_iter: int = 1000, tol: float = 1e-8) -> None:
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, summary: Any, y: None = None, *, sample_weight: Any = None) -> BetaGeoModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame or array-like of shape (n_customers, 3)
            Columns ``frequency`` (repeat purchases x), ``recency`` (t_x, age at
            the last repeat purchase) and ``T`` (age at the end of observation),
            in one time unit; an array is read in that column order.
        y : None
            Ignored (scikit-learn convention).
        sample_weight : array-like of shape (n_customers,), optional
            Number of identical customers each row stands for.

        Returns
        -------
        self : BetaGeoModel
        """
        who = f"{type(self).__name__}.fit"
        x, t_x, T = check_summary(summary, who)
        weight = check_sample_weight(sample_weight, x.shape[0], who)
        objective = _bgnbd_objective(x, t_x, T, weight)
        scale = float(np.mean(T)) or 1.0
        n_obs = float(x.shape[0] if weight is None else weight.sum())
        self._fit_mle(objective, np.array([1.0, scale, 1.0, 1.0]), n_obs, who)
        self.n_customers_ = int(x.shape[0])
        return self

    def probability_alive(self, summary: Any) -> np.ndarray:
        """P(customer still active at T | x, t_x, T).

        Parameters
        ----------
        summary : DataFrame or array-like of shape (n_customers, 3)

        Returns
        -------
        ndarray of shape (n_customers,)
            Values in [0, 1]; exactly 1 for customers without repeat purchase.
        """
        x, t_x, T = check_summary(summary, f"{type(self).__name__}.probability_alive")
        self._theta()
        return np.exp(-np.logaddexp(0.0, _log_alive_odds(self.params_, x, t_x, T)))

    def expected_purchases(self, t: Any, summary: Any) -> np.ndarray:
        """Expected repeat purchases in (T, T + t] given each history.

        Parameters
        ----------
        t : float or array-like broadcastable to (n_customers,)
            Horizon(s), in the summary's time unit.
        summary : DataFrame or array-like of shape (n_customers, 3)

        Returns
        -------
        ndarray of shape (n_customers,)
        """
        who = f"{type(self).__name__}.expected_purchases"
        x, t_x, T = check_summary(summary, who)
        t = check_times(t, "t", who)
        r, alpha, a, b = self._theta()
        z = t / (alpha + T + t)
        head = (a + b + x - 1.0) * _one_minus_power_hyp(a, b, r, x, z)
        return head * np.exp(-np.logaddexp(0.0, _log_alive_odds(self.params_, x, t_x, T)))

    def expected_purchases_new_customer(self, t: Any) -> np.ndarray:
        """Expected purchases of a new customer in (0, t].

        Parameters
        ----------
        t : float or array-like
            Horizon(s), in the fitted time unit.

        Returns
        -------
        ndarray of the shape of ``t``
        """
        t = check_times(t, "t", f"{type(self).__name__}.expected_purchases_new_customer")
        r, alpha, a, b = self._theta()
        z = t / (alpha + t)
        return (a + b - 1.0) * _one_minus_power_hyp(a, b, r, np.zeros_like(z), z)

    def log_likelihood(self, summary: Any) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters.

        Returns
        -------
        ndarray of shape (n_customers,)
        """
        x, t_x, T = check_summary(summary, f"{type(self).__name__}.log_likelihood")
        self._theta()
        return _bgnbd_loglik_vector(self.params_, x, t_x, T)


def _bgnbd_loglik_vector(params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    repeat = x > 0
    u1 = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    bx1 = np.where(repeat, b + x - 1.0, 1.0)
    u2 = np.where(repeat, betaln(a + 1.0, bx1) - (r + x) * np.log(alpha + t_x), -np.inf)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b) + np.logaddexp(u1, u2)
