"""Penalised logistic regressions solved with L-BFGS-B.

``fit_logistic`` is the usual L2 logistic regression with optional bounds
(non-negative signal weights). ``fit_multipliers`` fits the generator-shaped
model with touch multipliers inside the transform,

.. math::

    \\operatorname{logit} p_n = \\beta^\\top x_n + \\sum_s w_s
        \\log\\Bigl(1 + \\sum_c M_c D_{nsc}\\Bigr), \\qquad
    M_{(r, q)} = e^{\\mu_r + \\nu_q}, \\quad M_{anon} = 1,

by maximum likelihood with a ridge ``||w||^2 + ||mu||^2 + ||nu||^2`` of weight
``1 / (2 C)`` per row, ``w >= 0`` and ``nu_ref = 0`` (the reference seniority).
``D`` is sparse (rows x (signal, cell)); the gradient with respect to ``M_c``
is ``sum_{n, s} (p_n - y_n) w_s D_{nsc} / (1 + E_{ns})``.

Standard errors of ``mu`` and ``nu`` come from the expected (Fisher)
information of the penalised fit, ``J^T diag(p (1 - p)) J + I / C``, with
``J`` the Jacobian of the linear predictor in the free parameters
(parameters on a bound are held fixed): the usual Wald intervals of a
non-linear logistic model, read on the log scale of the multipliers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.optimize as opt
import scipy.sparse as sp
from scipy.special import expit
from threadpoolctl import threadpool_limits


def _nll(eta: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its derivative in ``eta``."""
    n = len(y)
    loss = (np.logaddexp(0.0, eta).sum() - float(y @ eta)) / n
    return float(loss), (expit(eta) - y) / n


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    *,
    C: float,
    lower: np.ndarray | None = None,
    init: np.ndarray | None = None,
    max_iter: int = 500,
    tol: float = 1e-7,
) -> tuple[np.ndarray, float]:
    """L2 logistic regression ``min mean NLL + ||w||^2 / (2 C n)``; intercept free.

    Returns ``(coef, intercept)``. ``lower`` gives per-column lower bounds
    (``-inf`` for none).
    """
    n, d = X.shape
    y = y.astype(np.float64)
    lam = 1.0 / (C * n)
    x0 = np.zeros(d + 1)
    if init is not None:
        x0[:] = init
    else:
        p = min(max(y.mean(), 1e-6), 1 - 1e-6)
        x0[-1] = np.log(p / (1 - p))

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        loss, g = _nll(X @ w + b, y)
        grad = np.empty_like(theta)
        grad[:-1] = X.T @ g + lam * w
        grad[-1] = g.sum()
        return loss + 0.5 * lam * float(w @ w), grad

    bounds = None
    if lower is not None:
        bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower] + [(None, None)]
        x0[:-1] = np.maximum(x0[:-1], np.where(np.isfinite(lower), lower, -np.inf))
    with threadpool_limits(limits=1, user_api="blas"):  # small BLAS calls: threads only cost
        res = opt.minimize(
            f, x0, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-6},
        )
    return res.x[:-1].copy(), float(res.x[-1])


class MultiplierFit(NamedTuple):
    """Result of :func:`fit_multipliers`; ``*_se`` are standard errors of the
    log multipliers (0 for the reference seniority, NaN where not estimable)."""

    w: np.ndarray
    beta: np.ndarray
    role: np.ndarray
    seniority: np.ndarray
    role_se: np.ndarray
    seniority_se: np.ndarray


def fit_multipliers(
    Dc: sp.csr_matrix,
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_signals: int,
    n_roles: int,
    n_seniorities: int,
    seniority_ref: int,
    C: float,
    w0: np.ndarray,
    beta0: np.ndarray,
    max_iter: int = 300,
) -> MultiplierFit:
    """Joint fit of signal weights, controls and log role / seniority multipliers.

    ``Dc`` has shape (n, n_signals * n_cells) with cells ``r * Q + q`` then one
    anonymous cell. ``X`` holds the controls with an intercept column last.
    """
    n = Dc.shape[0]
    S, R, Q = n_signals, n_roles, n_seniorities
    n_cells = R * Q + 1
    coo = Dc.tocoo()
    row, col, val = coo.row, coo.col, coo.data
    sig, cell = col // n_cells, col % n_cells
    row_sig = row * S + sig
    y = y.astype(np.float64)
    lam = 1.0 / (C * n)
    r_of = np.repeat(np.arange(R), Q)
    q_of = np.tile(np.arange(Q), R)
    d_x = X.shape[1]
    free_q = np.array([q for q in range(Q) if q != seniority_ref])

    def unpack(theta: np.ndarray):
        w = theta[:S]
        beta = theta[S : S + d_x]
        mu = theta[S + d_x : S + d_x + R]
        nu = np.zeros(Q)
        nu[free_q] = theta[S + d_x + R :]
        return w, beta, mu, nu

    def exposure(mu: np.ndarray, nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        M = np.append(np.exp(mu[r_of] + nu[q_of]), 1.0)
        E = np.bincount(row_sig, weights=val * M[cell], minlength=n * S).reshape(n, S)
        return M, E

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, beta, mu, nu = unpack(theta)
        M, E = exposure(mu, nu)
        L = np.log1p(E)
        loss, g = _nll(X @ beta + L @ w, y)
        G = g[:, None] * w[None, :] / (1.0 + E)  # (n, S)
        gM = np.bincount(cell, weights=val * G[row, sig], minlength=n_cells)
        gMc = gM[:-1] * M[:-1]  # d/d log M_c
        grad_mu = np.bincount(r_of, weights=gMc, minlength=R) + lam * mu
        grad_nu = np.bincount(q_of, weights=gMc, minlength=Q) + lam * nu
        grad = np.concatenate(
            [L.T @ g + lam * w, X.T @ g, grad_mu, grad_nu[free_q]]
        )
        pen = 0.5 * lam * (float(w @ w) + float(mu @ mu) + float(nu @ nu))
        return loss + pen, grad

    def jacobian(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``d eta / d theta`` (n x all parameters) and ``p`` at ``theta``."""
        w, beta, mu, nu = unpack(theta)
        M, E = exposure(mu, nu)
        L = np.log1p(E)
        # d eta_n / d log M_c = sum_s w_s D_nsc M_c / (1 + E_ns), per row and cell
        dcell = np.bincount(
            row * n_cells + cell,
            weights=val * M[cell] * (w[None, :] / (1.0 + E))[row, sig],
            minlength=n * n_cells,
        ).reshape(n, n_cells)[:, :-1]
        d_mu = np.stack([dcell[:, r_of == r].sum(axis=1) for r in range(R)], axis=1)
        d_nu = np.stack([dcell[:, q_of == q].sum(axis=1) for q in free_q], axis=1)
        J = np.hstack([L, X, d_mu, d_nu])
        return J, expit(X @ beta + L @ w)

    theta0 = np.concatenate([np.maximum(w0, 0.0), beta0, np.zeros(R), np.zeros(len(free_q))])
    bounds = [(0.0, None)] * S + [(None, None)] * d_x + [(-4.0, 4.0)] * (R + len(free_q))
    with threadpool_limits(limits=1, user_api="blas"):
        res = opt.minimize(
            f, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": max_iter, "ftol": 1e-9, "gtol": 1e-6},
        )
    theta = res.x
    w, beta, mu, nu = unpack(theta)
    se = _wald_se(jacobian, theta, bounds, penalised=np.r_[np.ones(S), np.zeros(d_x),
                                                          np.ones(R + len(free_q))], C=C)
    role_se = se[S + d_x : S + d_x + R]
    sen_se = np.zeros(Q)
    sen_se[free_q] = se[S + d_x + R :]
    return MultiplierFit(w, beta, np.exp(mu), np.exp(nu), role_se, sen_se)


def _wald_se(jacobian, theta: np.ndarray, bounds, *, penalised: np.ndarray, C: float) -> np.ndarray:
    """Standard errors from ``J^T diag(p(1-p)) J + diag(penalised) / C`` over the
    parameters strictly inside their bounds; NaN for the others or when the
    information matrix is singular."""
    lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
    hi = np.array([np.inf if b[1] is None else b[1] for b in bounds])
    free = np.flatnonzero((theta > lo + 1e-8) & (theta < hi - 1e-8))
    J, p = jacobian(theta)
    Jf = J[:, free]
    info = (Jf * (p * (1.0 - p))[:, None]).T @ Jf + np.diag(penalised[free] / C)
    se = np.full(len(theta), np.nan)
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return se
    diag = np.diag(cov)
    se[free] = np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan)
    return se
