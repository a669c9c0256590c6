r"""Pareto/NBD: Poisson purchasing with exponential lifetimes.

Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are
They and What Will They Do Next?", *Management Science* 33(1); likelihood as
written in Fader, Hardie & Lee (2005), "A Note on Implementing the Pareto/NBD
Model in MATLAB" (brucehardie.com note 008), whose notation we follow.

The story: while alive a customer buys as a Poisson process of rate
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; her unobserved lifetime is
exponential with rate :math:`\mu \sim \mathrm{Gamma}(s, \beta)`. For ``x``
repeat purchases, the last at ``t_x``, observed until ``T``:

.. math::

    L(r, \alpha, s, \beta \mid x, t_x, T) = \frac{\Gamma(r+x)\,\alpha^r\beta^s}{\Gamma(r)}
      \Big\{ \frac{1}{(\alpha+T)^{r+x}(\beta+T)^s} + \frac{s}{r+s+x} A_0 \Big\}

where, with :math:`m = r + s + x`, for :math:`\alpha \ge \beta`

.. math::

    A_0 = \frac{{}_2F_1\big(m, s+1; m+1; \frac{\alpha-\beta}{\alpha+t_x}\big)}{(\alpha+t_x)^{m}}
        - \frac{{}_2F_1\big(m, s+1; m+1; \frac{\alpha-\beta}{\alpha+T}\big)}{(\alpha+T)^{m}}

and for :math:`\beta > \alpha`

.. math::

    A_0 = \frac{{}_2F_1\big(m, r+x; m+1; \frac{\beta-\alpha}{\beta+t_x}\big)}{(\beta+t_x)^{m}}
        - \frac{{}_2F_1\big(m, r+x; m+1; \frac{\beta-\alpha}{\beta+T}\big)}{(\beta+T)^{m}}.

The branch keeps the argument :math:`z` of :math:`{}_2F_1` in :math:`[0, 1)`.
Everything is evaluated in log space: each term is
:math:`\ln {}_2F_1 - m\ln(\cdot)`, the difference is
:math:`\ln A_0 = \ell_{t_x} + \operatorname{log1p}(-e^{\ell_T - \ell_{t_x}})` (which
is :math:`-\infty` when :math:`t_x = T`) and the braces are a ``logaddexp``. To
keep :func:`scipy.special.hyp2f1` accurate for heavy buyers (``m`` large, ``z``
near 1) each :math:`{}_2F_1` is used after Euler's transformation,
:math:`{}_2F_1(m, s+1; m+1; z) = (1-z)^{-s}\,{}_2F_1(1, r+x; m+1; z)` and
:math:`{}_2F_1(m, r+x; m+1; z) = (1-z)^{1-r-x}\,{}_2F_1(1, s+1; m+1; z)`, whose
series have bounded positive terms.

The derivatives of :math:`{}_2F_1` in its parameters have no closed form, so the
optimiser gets a central-difference gradient of the vectorised log-likelihood
(eight extra evaluations; no automatic differentiation).

Predictions (Schmittlein et al. 1987; Fader & Hardie notes):

.. math::

    P(\text{alive} \mid x, t_x, T) &= \Big[1 + \frac{s}{r+s+x}(\alpha+T)^{r+x}(\beta+T)^s A_0\Big]^{-1} \\
    E[Y(t) \mid x, t_x, T] &= \frac{(r+x)(\beta+T)}{(\alpha+T)(s-1)}
        \Big[1 - \big(\tfrac{\beta+T}{\beta+T+t}\big)^{s-1}\Big]\,P(\text{alive} \mid x, t_x, T) \\
    E[X(t)] &= \frac{r\beta}{\alpha(s-1)}\Big[1 - \big(\tfrac{\beta}{\beta+t}\big)^{s-1}\Big]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gammaln, hyp2f1

from ._base import _MaximumLikelihoodModel, numerical_gradient
from ._validation import check_sample_weight, check_summary, check_times

__all__ = ["ParetoNBDModel"]


def _log_term(r: float, alpha: float, s: float, beta: float, x: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """ln[2F1(...; z(tau)) / (max(alpha, beta) + tau)^(r+s+x)] of the branch in force."""
    m1 = r + s + x + 1.0
    if alpha >= beta:
        z = (alpha - beta) / (alpha + tau)
        f = hyp2f1(1.0, r + x, m1, z)
        return np.log(f) - s * np.log(beta + tau) - (r + x) * np.log(alpha + tau)
    z = (beta - alpha) / (beta + tau)
    f = hyp2f1(1.0, s + 1.0, m1, z)
    return np.log(f) - (r + x - 1.0) * np.log(alpha + tau) - (s + 1.0) * np.log(beta + tau)


def _log_a0(r: float, alpha: float, s: float, beta: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """ln A_0 (-inf where t_x == T)."""
    l_tx = _log_term(r, alpha, s, beta, x, t_x)
    l_T = _log_term(r, alpha, s, beta, x, T)
    with np.errstate(divide="ignore"):
        return l_tx + np.log1p(-np.exp(np.minimum(l_T - l_tx, 0.0)))


def _pnbd_loglik_vector(theta: tuple[float, ...], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, s, beta = theta
    rx = r + x
    first = -rx * np.log(alpha + T) - s * np.log(beta + T)
    second = np.log(s) - np.log(rx + s) + _log_a0(r, alpha, s, beta, x, t_x, T)
    return gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(first, second)


class ParetoNBDModel(_MaximumLikelihoodModel):
    """Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987).

    Parameters
    ----------
    max_iter : int, default=1000
        Maximum number of L-BFGS-B iterations.
    tol : float, default=1e-7
        Convergence tolerance on the largest gradient component of the mean
        log-likelihood per customer (log-parameter scale).

    Attributes
    ----------
    params_ : dict of str to float
        Fitted ``r``, ``alpha`` (purchase rate, gamma shape and rate) and
        ``s``, ``beta`` (dropout rate, gamma shape and rate).
    log_likelihood_ : float
        Total log-likelihood at ``params_``.
    standard_errors_ : dict of str to float
        Asymptotic standard errors (inverse Hessian, delta method).
    covariance_ : ndarray of shape (4, 4)
    n_customers_ : int
    n_iter_ : int

    References
    ----------
    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your
    customers: Who are they and what will they do next? Management Science,
    33(1), 1-24.

    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). A note on
    implementing the Pareto/NBD model in MATLAB.
    """

    _param_names = ("r", "alpha", "s", "beta")

    def __init__(self, *, max_iter: int = 1000, tol: float = 1e-7) -> None:
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, summary: Any, y: None = None, *, sample_weight: Any = None) -> ParetoNBDModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame or array-like of shape (n_customers, 3)
            Columns ``frequency``, ``recency``, ``T`` (see
            :meth:`BetaGeoModel.fit`).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_customers,), optional
            Number of identical customers each row stands for.

        Returns
        -------
        self : ParetoNBDModel
        """
        who = f"{type(self).__name__}.fit"
        x, t_x, T = check_summary(summary, who)
        weight = check_sample_weight(sample_weight, x.shape[0], who)
        w = np.ones_like(x) if weight is None else weight

        def nll(phi: np.ndarray) -> float:
            with np.errstate(over="ignore", invalid="ignore"):
                return -float(np.dot(w, _pnbd_loglik_vector(tuple(np.exp(phi)), x, t_x, T)))

        def objective(phi: np.ndarray) -> tuple[float, np.ndarray]:
            return nll(phi), numerical_gradient(nll, phi)

        scale = float(np.mean(T)) or 1.0
        self._fit_mle(objective, np.array([1.0, scale, 1.0, scale]), float(w.sum()), who)
        self.n_customers_ = int(x.shape[0])
        return self

    def probability_alive(self, summary: Any) -> np.ndarray:
        """P(customer still alive at T | x, t_x, T).

        Parameters
        ----------
        summary : DataFrame or array-like of shape (n_customers, 3)

        Returns
        -------
        ndarray of shape (n_customers,), values in [0, 1]
        """
        x, t_x, T = check_summary(summary, f"{type(self).__name__}.probability_alive")
        r, alpha, s, beta = self._theta()
        log_odds = (
            np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T) + s * np.log(beta + T)
            + _log_a0(r, alpha, s, beta, x, t_x, T)
        )
        return np.exp(-np.logaddexp(0.0, log_odds))

    def expected_purchases(self, t: Any, summary: Any) -> np.ndarray:
        """Expected repeat purchases in (T, T + t] given each history.

        Parameters
        ----------
        t : float or array-like broadcastable to (n_customers,)
            Horizon(s) in the summary's time unit.
        summary : DataFrame or array-like of shape (n_customers, 3)

        Returns
        -------
        ndarray of shape (n_customers,)
        """
        who = f"{type(self).__name__}.expected_purchases"
        x, t_x, T = check_summary(summary, who)
        t = check_times(t, "t", who)
        r, alpha, s, beta = self._theta()
        # (beta+T)/(s-1) [1 - ((beta+T)/(beta+T+t))^(s-1)], stable near s = 1
        horizon = (beta + T) * -np.expm1(-(s - 1.0) * np.log1p(t / (beta + T))) / (s - 1.0)
        return (r + x) / (alpha + T) * horizon * self.probability_alive(summary)

    def expected_purchases_new_customer(self, t: Any) -> np.ndarray:
        """Expected purchases of a new customer in (0, t].

        Parameters
        ----------
        t : float or array-like

        Returns
        -------
        ndarray of the shape of ``t``
        """
        t = check_times(t, "t", f"{type(self).__name__}.expected_purchases_new_customer")
        r, alpha, s, beta = self._theta()
        return r / alpha * beta * -np.expm1(-(s - 1.0) * np.log1p(t / beta)) / (s - 1.0)

    def log_likelihood(self, summary: Any) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters.

        Returns
        -------
        ndarray of shape (n_customers,)
        """
        x, t_x, T = check_summary(summary, f"{type(self).__name__}.log_likelihood")
        return _pnbd_loglik_vector(self._theta(), x, t_x, T)
