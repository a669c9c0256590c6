"""Pareto/NBD: published CDNOW estimates, stability, brute-force likelihood.

Source of the reference numbers: Fader, P. S., Hardie, B. G. S., & Lee, K. L.
(2005), "A Note on Implementing the Pareto/NBD Model in MATLAB", and the
comparison in Fader, Hardie & Lee (2005), Marketing Science 24(2), Section 4:
on the CDNOW sample (2,357 customers, 39-week calibration) r = 0.553,
alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import gammaln

from features.errors import DataValidationError
from models.clv import ParetoNBDModel
from models.clv._pareto_nbd import _pnbd_loglik_vector

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary.csv", index_col="ID")


@pytest.fixture(scope="module")
def fitted(cdnow) -> ParetoNBDModel:
    return ParetoNBDModel().fit(cdnow)


def test_pareto_nbd_params_close_to_fader_hardie_lee_2005_matlab_note_cdnow(fitted):
    # FHL (2005) note / Marketing Science Sec. 4: r 0.553, alpha 10.578, s 0.606, beta 11.669
    expected = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    for name, value in expected.items():
        assert fitted.params_[name] == pytest.approx(value, rel=5e-4), name


def test_pareto_nbd_log_likelihood_matches_fader_hardie_lee_2005(fitted):
    # FHL (2005): LL = -9595.0
    assert fitted.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


def _loglik_by_quadrature(r, alpha, s, beta, x, t_x, T):
    """The Pareto/NBD likelihood as its integral over the unobserved death time."""
    integral, _ = quad(lambda tau: (alpha + tau) ** -(r + x) * (beta + tau) ** -(s + 1), t_x, T, epsabs=0, epsrel=1e-12)
    bracket = (alpha + T) ** -(r + x) * (beta + T) ** -s + s * integral
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.log(bracket)


@settings(max_examples=80, deadline=None)
@given(
    r=st.floats(0.1, 3.0),
    alpha=st.floats(0.5, 30.0),
    s=st.floats(0.1, 3.0),
    beta=st.floats(0.5, 30.0),
    x=st.integers(0, 12),
    frac=st.floats(0.0, 1.0),
    T=st.floats(1.0, 60.0),
)
def test_hypergeometric_branches_equal_the_integral_form(r, alpha, s, beta, x, frac, T):
    # both branches (alpha >= beta and beta > alpha) against brute-force quadrature
    t_x = 0.0 if x == 0 else frac * T
    got = _pnbd_loglik_vector((r, alpha, s, beta), np.array([float(x)]), np.array([t_x]), np.array([T]))[0]
    assert got == pytest.approx(_loglik_by_quadrature(r, alpha, s, beta, x, t_x, T), rel=1e-7, abs=1e-9)


def test_expected_purchases_and_alive_are_consistent(fitted, cdnow):
    p = fitted.probability_alive(cdnow)
    assert np.all((p >= 0) & (p <= 1))
    e = fitted.expected_purchases(39.0, cdnow)
    assert np.all(e >= 0)
    # population check: the average conditional forecast of customers of age 0
    # equals the new-customer expectation
    zero = np.zeros((1, 3))
    assert fitted.expected_purchases(39.0, zero)[0] == pytest.approx(fitted.expected_purchases_new_customer(39.0), rel=1e-10)


EXTREMES = pd.DataFrame(
    {
        "frequency": [0, 0, 200, 200, 200, 200],
        "recency": [0.0, 0.0, 38.85, 38.86, 1.0, 1e-3],
        "T": [38.86, 0.0, 38.86, 38.86, 38.86, 1000.0],
    }
)


def test_extreme_inputs_give_finite_likelihood_and_probabilities_in_unit_interval(fitted):
    # x = 0, and x = 200 with t_x close to (or equal to) T
    ll = fitted.log_likelihood(EXTREMES)
    alive = fitted.probability_alive(EXTREMES)
    expected = fitted.expected_purchases(52.0, EXTREMES)
    assert np.all(np.isfinite(ll))
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(expected))
    assert alive[2] > 0.99 and alive[4] < 1e-6


def test_both_branches_used_on_the_same_data_give_the_same_likelihood():
    # alpha = beta sits on the branch boundary: nudging across it changes nothing
    x, t_x, T = np.array([0.0, 3.0, 7.0]), np.array([0.0, 10.0, 30.0]), np.array([40.0, 40.0, 40.0])
    below = _pnbd_loglik_vector((0.5, 10.0 - 1e-9, 0.6, 10.0), x, t_x, T)
    above = _pnbd_loglik_vector((0.5, 10.0 + 1e-9, 0.6, 10.0), x, t_x, T)
    assert below == pytest.approx(above, rel=1e-8)


def test_recency_beyond_T_is_refused_with_the_fix():
    with pytest.raises(DataValidationError, match="recency must not exceed T.*same time unit"):
        ParetoNBDModel().fit(pd.DataFrame({"frequency": [1, 2], "recency": [3.0, 9.0], "T": [5.0, 8.0]}))
