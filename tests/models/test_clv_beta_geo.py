"""BG/NBD: published CDNOW estimates, stability at extreme inputs, brute-force checks.

Source of the reference numbers: Fader, P. S., Hardie, B. G. S., & Lee, K. L.
(2005). "Counting Your Customers" the Easy Way: An Alternative to the
Pareto/NBD Model. Marketing Science 24(2), 275-284, Section 4 (the CDNOW
sample of 2,357 customers, 39-week calibration period): r = 0.243,
alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import hyp2f1

from features.errors import DataValidationError, SchemaError
from models.clv import BetaGeoModel
from models.clv._base import numerical_gradient
from models.clv._beta_geo import _bgnbd_loglik_vector, _bgnbd_objective

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary.csv", index_col="ID")


@pytest.fixture(scope="module")
def fitted(cdnow) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow)


def test_bgnbd_params_close_to_fader_hardie_lee_2005_section_4_cdnow(fitted):
    # FHL (2005) Sec. 4: r 0.243, alpha 4.414, a 0.793, b 2.426 (3 significant digits)
    expected = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in expected.items():
        assert fitted.params_[name] == pytest.approx(value, abs=5e-4), name


def test_bgnbd_log_likelihood_matches_fader_hardie_lee_2005_section_4(fitted):
    # FHL (2005) Sec. 4: LL = -9582.4
    assert fitted.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert fitted.n_customers_ == 2357


def test_standard_errors_match_brute_force_natural_scale_hessian(cdnow, fitted):
    x, t_x, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    theta = np.array([fitted.params_[k] for k in ("r", "alpha", "a", "b")])

    def ll(th):
        return float(np.sum(_bgnbd_loglik_vector(dict(zip(("r", "alpha", "a", "b"), th)), x, t_x, T)))

    hess = np.empty((4, 4))
    h = 1e-4 * theta
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            hess[i, j] = (ll(theta + ei + ej) - ll(theta + ei - ej) - ll(theta - ei + ej) + ll(theta - ei - ej)) / (
                4 * h[i] * h[j]
            )
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    assert [fitted.standard_errors_[k] for k in ("r", "alpha", "a", "b")] == pytest.approx(se, rel=1e-3)


def test_analytic_gradient_matches_central_differences(cdnow):
    x, t_x, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    weight = np.random.default_rng(0).uniform(0.5, 2.0, x.size)
    objective = _bgnbd_objective(x, t_x, T, weight)
    for phi in (np.log([0.3, 5.0, 0.8, 2.5]), np.log([2.0, 20.0, 1.5, 0.7])):
        numeric = numerical_gradient(lambda p: objective(p)[0], phi)
        assert objective(phi)[1] == pytest.approx(numeric, rel=1e-5, abs=1e-4)


def test_sample_weight_equals_repeated_rows(cdnow):
    small = cdnow.iloc[:300]
    counts = np.arange(300) % 3 + 1
    repeated = small.loc[small.index.repeat(counts)]
    weighted = BetaGeoModel().fit(small, sample_weight=counts)
    assert weighted.params_ == pytest.approx(BetaGeoModel().fit(repeated).params_, rel=1e-5)


def test_arrays_in_column_order_give_the_same_fit(cdnow, fitted):
    model = BetaGeoModel().fit(cdnow[["frequency", "recency", "T"]].to_numpy())
    assert model.params_ == pytest.approx(fitted.params_, rel=1e-9)


def _expected_untransformed(params, t, x, t_x, T):
    """FHL (2005) conditional expectation written literally (fine for small x)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return head / (1 + odds)


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 15),
    frac=st.floats(0.0, 1.0),
    T=st.floats(1.0, 80.0),
    t=st.floats(0.1, 100.0),
)
def test_conditional_expectation_equals_the_untransformed_formula(fitted, x, frac, T, t):
    t_x = 0.0 if x == 0 else frac * T
    summary = np.array([[x, t_x, T]], dtype=float)
    got = fitted.expected_purchases(t, summary)[0]
    want = _expected_untransformed(fitted.params_, t, float(x), t_x, T)
    assert got == pytest.approx(want, rel=1e-8, abs=1e-12)


def test_new_customer_expectation_is_eq_7_and_the_zero_history_limit(fitted):
    r, alpha, a, b = (fitted.params_[k] for k in ("r", "alpha", "a", "b"))
    t = np.array([1.0, 39.0, 78.0])
    literal = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    assert fitted.expected_purchases_new_customer(t) == pytest.approx(literal, rel=1e-10)
    # a customer of age 0 with no repeat purchase is a new customer
    zero = np.zeros((3, 3))
    assert fitted.expected_purchases(t, zero) == pytest.approx(literal, rel=1e-10)


def test_probability_alive_is_one_without_repeat_purchase_and_falls_with_silence(fitted):
    p = fitted.probability_alive(np.array([[0, 0, 38.86], [3, 38.0, 38.86], [3, 5.0, 38.86]]))
    assert p[0] == 1.0
    assert 0 < p[2] < p[1] < 1


EXTREMES = pd.DataFrame(
    {
        "frequency": [0, 0, 200, 200, 200, 200, 1],
        "recency": [0.0, 0.0, 38.85, 38.86, 1.0, 1e-3, 38.86],
        "T": [38.86, 0.0, 38.86, 38.86, 38.86, 1000.0, 38.86],
    }
)


def test_extreme_inputs_give_finite_likelihood_and_probabilities_in_unit_interval(fitted):
    # x = 0, and x = 200 with t_x close to (or equal to) T, and long silences
    with np.errstate(invalid="raise", over="raise", divide="raise"):
        ll = fitted.log_likelihood(EXTREMES)
        alive = fitted.probability_alive(EXTREMES)
        expected = fitted.expected_purchases(52.0, EXTREMES)
    assert np.all(np.isfinite(ll))
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    # a heavy buyer seen at the end is almost surely alive and keeps buying
    assert alive[2] > 0.99 and expected[2] > 100


def test_fit_survives_heavy_buyers():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, 500).astype(float)
    x[:5] = 200
    T = np.full(500, 40.0)
    t_x = np.where(x > 0, rng.uniform(0, 40, 500), 0.0)
    t_x[:5] = 39.99
    model = BetaGeoModel().fit(np.column_stack([x, t_x, T]))
    assert np.isfinite(model.log_likelihood_)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"frequency": [1, -1], "recency": [1.0, 0.0], "T": [5.0, 5.0]}), "frequency must be a non-negative whole number.*row 1"),
        (pd.DataFrame({"frequency": [1.5], "recency": [1.0], "T": [5.0]}), "frequency must be a non-negative whole number.*1.5"),
        (pd.DataFrame({"frequency": [2], "recency": [6.0], "T": [5.0]}), "recency must not exceed T.*recency 6.0 > T 5.0"),
        (pd.DataFrame({"frequency": [2], "recency": [np.nan], "T": [5.0]}), "recency has a missing or infinite value.*Drop those customers"),
        (pd.DataFrame({"frequency": [0], "recency": [2.0], "T": [5.0]}), "recency must be 0 when frequency is 0"),
        (pd.DataFrame({"frequency": [], "recency": [], "T": []}), "no customers"),
    ],
)
def test_bad_summaries_are_refused_naming_the_field_and_the_fix(frame, match):
    with pytest.raises(DataValidationError, match=match):
        BetaGeoModel().fit(frame)


def test_missing_column_is_a_schema_error_with_the_expected_columns():
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['T'\].*summary_from_transactions"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [1], "recency": [1.0]}))


def test_negative_horizon_is_refused(fitted):
    with pytest.raises(DataValidationError, match="t must be finite and >= 0"):
        fitted.expected_purchases(-1.0, np.array([[1, 1.0, 2.0]]))
