"""Tests of models.engagement._logit against brute-force references.

``fit_multipliers`` is checked on data simulated from its own model: the
estimates land near the truth, and its Wald standard errors (expected Fisher
information) agree with the observed information of a dense, independently
written penalised log-likelihood differentiated numerically.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit

from models.engagement._logit import fit_multipliers

S, R, Q, REF = 3, 2, 2, 0
N_CELLS = R * Q + 1
TRUE_W = np.array([0.6, 0.3, 0.9])
TRUE_BETA = np.array([-3.0])  # intercept only
TRUE_MU = np.log([2.0, 0.6])
TRUE_NU = np.log([1.0, 1.5])  # reference seniority first
C = 1e4


def _simulate(n: int, seed: int):
    rng = np.random.default_rng(seed)
    # decayed sums per (row, signal, cell), mostly zero, heavy-tailed when not
    D = rng.gamma(0.7, 2.0, size=(n, S, N_CELLS)) * (rng.random((n, S, N_CELLS)) < 0.35)
    M = np.append(np.exp(TRUE_MU[:, None] + TRUE_NU[None, :]).ravel(), 1.0)
    eta = TRUE_BETA[0] + np.log1p(D @ M) @ TRUE_W
    y = (rng.random(n) < expit(eta)).astype(np.int8)
    return D, y


def _dense_penalised_nll(theta: np.ndarray, D: np.ndarray, y: np.ndarray) -> float:
    """Total NLL + ||w, mu, nu||^2 / (2 C), written directly on dense arrays."""
    w, b, mu, nu1 = theta[:S], theta[S], theta[S + 1 : S + 1 + R], theta[S + 1 + R]
    nu = np.array([0.0, nu1])
    M = np.append(np.exp(mu[:, None] + nu[None, :]).ravel(), 1.0)
    eta = b + np.log1p(D @ M) @ w
    nll = np.sum(np.logaddexp(0.0, eta) - y * eta)
    return nll + (w @ w + mu @ mu + nu1**2) / (2 * C)


def _numerical_hessian(f, x: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    k = len(x)
    H = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            e_i, e_j = np.eye(k)[i] * eps, np.eye(k)[j] * eps
            H[i, j] = H[j, i] = (
                f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)
            ) / (4 * eps**2)
    return H


@pytest.fixture(scope="module")
def simulated():
    D, y = _simulate(40_000, seed=5)
    Dc = sp.csr_matrix(D.reshape(len(y), S * N_CELLS))
    fit = fit_multipliers(
        Dc, np.ones((len(y), 1)), y, n_signals=S, n_roles=R, n_seniorities=Q,
        seniority_ref=REF, C=C, w0=np.full(S, 0.1), beta0=np.array([-2.0]), max_iter=1000,
    )
    return D, y, fit


def test_recovers_planted_multipliers_within_their_intervals(simulated):
    _, _, fit = simulated
    z_role = (np.log(fit.role) - TRUE_MU) / fit.role_se
    z_sen = (np.log(fit.seniority[1]) - TRUE_NU[1]) / fit.seniority_se[1]
    assert np.all(np.abs(z_role) < 3.5) and abs(z_sen) < 3.5
    assert fit.seniority[REF] == 1.0 and fit.seniority_se[REF] == 0.0
    assert np.allclose(fit.w, TRUE_W, atol=0.15)


def test_standard_errors_match_observed_information_of_a_dense_reference(simulated):
    D, y, fit = simulated
    theta = np.r_[fit.w, fit.beta, np.log(fit.role), np.log(fit.seniority[1])]
    H = _numerical_hessian(lambda t: _dense_penalised_nll(t, D, y), theta)
    se_ref = np.sqrt(np.diag(np.linalg.inv(H)))
    ours = np.r_[fit.role_se, fit.seniority_se[1]]
    # expected vs observed information: equal in the limit, close at n = 40,000
    np.testing.assert_allclose(ours, se_ref[S + 1 :], rtol=0.1)


def test_a_signal_never_seen_stays_on_its_bound_and_errors_stay_finite():
    D, y = _simulate(5_000, seed=9)
    D[:, 2, :] = 0.0  # signal 2 never seen: its weight sits at the bound w = 0
    Dc = sp.csr_matrix(D.reshape(len(y), S * N_CELLS))
    fit = fit_multipliers(
        Dc, np.ones((len(y), 1)), y, n_signals=S, n_roles=R, n_seniorities=Q,
        seniority_ref=REF, C=1.0, w0=np.zeros(S), beta0=np.array([-2.0]),
    )
    assert fit.w[2] == 0.0
    assert np.all(np.isfinite(fit.role_se)) and np.all(fit.role_se > 0)
