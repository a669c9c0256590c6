"""Maximum-likelihood machinery shared by the CLV models.

Each model supplies the negative log-likelihood of its data as a function of
the **log** of its parameters (so the optimiser works unconstrained and every
parameter stays positive) and, where it can, the analytic gradient. This module

* minimises it with L-BFGS-B (``scipy.optimize.minimize``) on the mean
  negative log-likelihood per customer, which keeps the tolerances independent
  of the number of customers;
* takes the observed information matrix as the Hessian of the negative
  log-likelihood at the optimum, by central differences of the gradient on the
  log scale, :math:`H_{jk} = \\partial^2 (-\\ell) / \\partial\\phi_j\\partial\\phi_k`
  with :math:`\\phi = \\log\\theta`;
* maps the standard errors back to the natural scale by the delta method,
  :math:`\\operatorname{se}(\\hat\\theta_j) = \\hat\\theta_j\\,\\sqrt{(H^{-1})_{jj}}`
  (exact to first order, and the same as inverting the natural-scale Hessian
  because the gradient vanishes at the optimum).

Models without a closed-form gradient (the Pareto/NBD, whose Gauss
hypergeometric function has no elementary derivative in its parameters) get a
central-difference gradient of their vectorised log-likelihood instead.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from features.errors import DataValidationError

logger = logging.getLogger(__name__)

#: The objective returns (total negative log-likelihood, gradient w.r.t. log-parameters).
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def numerical_gradient(fun: Callable[[np.ndarray], float], phi: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function of the log-parameters."""
    grad = np.empty_like(phi)
    for j in range(phi.size):
        e = np.zeros_like(phi)
        e[j] = step
        grad[j] = (fun(phi + e) - fun(phi - e)) / (2.0 * step)
    return grad


def _hessian(objective: Objective, phi: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Symmetrised central-difference Hessian of ``objective``'s gradient."""
    k = phi.size
    hess = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        hess[:, j] = (objective(phi + e)[1] - objective(phi - e)[1]) / (2.0 * step)
    return 0.5 * (hess + hess.T)


class _MaximumLikelihoodModel(BaseEstimator):
    """Base of the CLV estimators: L-BFGS-B on log-parameters, Hessian standard errors.

    Subclasses set ``_param_names`` and call :meth:`_fit_mle`; learned state is
    ``params_`` (dict), ``log_likelihood_`` (float, the total over customers),
    ``standard_errors_`` (dict), ``covariance_`` (array, natural scale),
    ``n_iter_`` and ``n_customers_``.
    """

    _param_names: tuple[str, ...] = ()

    def _fit_mle(
        self,
        objective: Objective,
        x0: np.ndarray,
        n_obs: float,
        who: str,
    ) -> None:
        def scaled(phi: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = objective(phi)
            if not np.isfinite(value):
                # Let the line search step back from a region where the likelihood
                # underflows instead of stopping on a NaN.
                return np.inf, np.zeros_like(phi)
            return value / n_obs, grad / n_obs

        phi0 = np.log(np.asarray(x0, dtype=float))
        value0 = scaled(phi0)[0]
        if not np.isfinite(value0):
            raise DataValidationError(
                f"{who}: the log-likelihood is not finite at the starting values "
                f"{dict(zip(self._param_names, np.exp(phi0).round(6)))}; check the summary's time "
                "unit (recency and T should be of order 1-1000)."
            )
        # L-BFGS-B's few small dense products run far slower on a threaded BLAS
        # (thread wake-up dominates a 4-parameter problem): pin one thread while
        # optimising. Scoped, so nothing global changes.
        with threadpool_limits(limits=1, user_api="blas"):
            result = minimize(
                scaled,
                phi0,
                jac=True,
                method="L-BFGS-B",
                bounds=[(-30.0, 30.0)] * phi0.size,
                options={"maxiter": self.max_iter, "ftol": 1e-15, "gtol": self.tol, "maxls": 50},
            )
        grad_norm = float(np.max(np.abs(result.jac)))
        if not result.success and grad_norm > 100 * self.tol:
            warnings.warn(
                f"{who}: the optimiser stopped before converging ({result.message}; "
                f"max |gradient| {grad_norm:.2e}); try a larger max_iter or check the data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        phi = result.x
        theta = np.exp(phi)
        with threadpool_limits(limits=1, user_api="blas"):
            hess = _hessian(objective, phi)
        try:
            cov_log = np.linalg.inv(hess)
            var_log = np.diag(cov_log)
            if np.any(var_log < 0):
                raise np.linalg.LinAlgError("Hessian is not positive definite")
        except np.linalg.LinAlgError:
            warnings.warn(
                f"{who}: the Hessian at the optimum is singular or not positive definite; "
                "standard errors are set to NaN (the parameters may be poorly identified).",
                ConvergenceWarning,
                stacklevel=3,
            )
            cov_log = np.full_like(hess, np.nan)
        cov = cov_log * np.outer(theta, theta)
        self.params_ = {k: float(v) for k, v in zip(self._param_names, theta)}
        self.log_likelihood_ = float(-objective(phi)[0])
        self.standard_errors_ = {
            k: float(v) for k, v in zip(self._param_names, np.sqrt(np.diag(cov)))
        }
        self.covariance_ = cov
        self.n_iter_ = int(result.nit)
        logger.debug("%s: %s after %d iterations, LL %.4f", who, self.params_, result.nit, self.log_likelihood_)

    def _theta(self) -> tuple[float, ...]:
        check_is_fitted(self, "params_")
        return tuple(self.params_[k] for k in self._param_names)

    def summary(self) -> Any:
        """Fitted parameters with standard errors and 95% Wald intervals.

        Returns
        -------
        pandas.DataFrame
            Index: parameter names; columns ``coef``, ``se``, ``lower_95``,
            ``upper_95``.
        """
        import pandas as pd

        check_is_fitted(self, "params_")
        coef = pd.Series(self.params_)
        se = pd.Series(self.standard_errors_)
        return pd.DataFrame(
            {"coef": coef, "se": se, "lower_95": coef - 1.959964 * se, "upper_95": coef + 1.959964 * se}
        )
