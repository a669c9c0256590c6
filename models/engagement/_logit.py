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
"""

from __future__ import annotations

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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Joint fit of signal weights, controls and log role / seniority multipliers.

    ``Dc`` has shape (n, n_signals * n_cells) with cells ``r * Q + q`` then one
    anonymous cell. ``X`` holds the controls with an intercept column last.
    Returns ``(w, beta, role_multipliers, seniority_multipliers)``.
    """
    n = Dc.shape[0]
    S, R, Q = n_signals, n_roles, n_seniorities
    n_cells = R * Q + 1
    coo = Dc.tocoo()
    row, col, val = coo.row, coo.col, coo.data
    sig, cell = col // n_cells, col % n_cells
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

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, beta, mu, nu = unpack(theta)
        M = np.append(np.exp(mu[r_of] + nu[q_of]), 1.0)
        E = np.bincount(row * S + sig, weights=val * M[cell], minlength=n * S).reshape(n, S)
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

    theta0 = np.concatenate([np.maximum(w0, 0.0), beta0, np.zeros(R), np.zeros(len(free_q))])
    bounds = [(0.0, None)] * S + [(None, None)] * d_x + [(-4.0, 4.0)] * (R + len(free_q))
    with threadpool_limits(limits=1, user_api="blas"):
        res = opt.minimize(
            f, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": max_iter, "ftol": 1e-9, "gtol": 1e-6},
        )
    w, beta, mu, nu = unpack(res.x)
    return w, beta, np.exp(mu), np.exp(nu)
