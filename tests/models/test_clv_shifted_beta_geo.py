"""sBG retention: Fader & Hardie (2007) estimates and projections, DERL, contracts helper.

Source of the reference numbers: Fader, P. S., & Hardie, B. G. S. (2007).
How to Project Customer Retention. Journal of Interactive Marketing 21(1),
76-90: customers still active out of 1,000 at years 0-12 for the "Regular"
and "High End" segments; fitted on years 0-7, Regular alpha = 0.704,
beta = 1.182 and High End alpha = 0.668, beta = 3.806.
DERL: Fader, P. S., & Hardie, B. G. S. (2010). Customer-Base Valuation in a
Contractual Setting: The Perils of Ignoring Heterogeneity. Marketing Science
29(1), 85-93.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaln

from features.errors import DataValidationError, SchemaError
from models.clv import ShiftedBetaGeometricModel, fit_survival_by_segment, survival_from_contracts
from models.clv._base import numerical_gradient
from models.clv._shifted_beta_geo import _sbg_objective

# Fader & Hardie (2007): customers alive (of 1,000) at the start of years 0..12
REGULAR = np.array([1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173])
HIGH_END = np.array([1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394])


def test_sbg_regular_params_close_to_fader_hardie_2007_years_1_7():
    model = ShiftedBetaGeometricModel().fit(REGULAR[:8])
    assert model.params_["alpha"] == pytest.approx(0.704, abs=5e-4)
    assert model.params_["beta"] == pytest.approx(1.182, abs=5e-4)


def test_sbg_high_end_params_close_to_fader_hardie_2007_years_1_7():
    model = ShiftedBetaGeometricModel().fit(HIGH_END[:8])
    assert model.params_["alpha"] == pytest.approx(0.668, abs=5e-4)
    assert model.params_["beta"] == pytest.approx(3.806, abs=5e-4)


@pytest.mark.parametrize(
    ("curve", "projected"),
    [
        # our projections of years 8-12 (per 1,000) from the 0-7 fit, next to the
        # actual 223 207 194 183 173 (Regular) and 468 445 427 409 394 (High End)
        (REGULAR, [220.1, 204.4, 191.2, 179.9, 170.0]),
        (HIGH_END, [460.4, 435.8, 414.2, 395.1, 378.0]),
    ],
    ids=["regular", "high_end"],
)
def test_sbg_projection_of_years_8_12_tracks_fader_hardie_2007_holdout(curve, projected):
    model = ShiftedBetaGeometricModel().fit(curve[:8])
    survival = 1000 * model.survival(np.arange(8, 13))
    assert survival == pytest.approx(projected, abs=0.05)
    # within 5% of what actually happened (the paper's point: the sBG extrapolates)
    assert survival == pytest.approx(curve[8:], rel=0.05)


def test_survival_and_retention_are_the_beta_function_ratios():
    model = ShiftedBetaGeometricModel().fit(REGULAR[:8])
    a, b = model.params_["alpha"], model.params_["beta"]
    t = np.arange(1, 13)
    assert model.survival(0) == pytest.approx(1.0)
    assert model.survival(t) == pytest.approx(np.exp(betaln(a, b + t) - betaln(a, b)))
    assert model.retention_rate(t) == pytest.approx(model.survival(t) / model.survival(t - 1))
    assert np.all(np.diff(model.retention_rate(t)) > 0)  # survivors are the loyal ones
    assert model.churn_probability(t) == pytest.approx(model.survival(t - 1) - model.survival(t))


def test_analytic_gradient_matches_central_differences():
    t = np.arange(1, 8, dtype=float)
    churn = -np.diff(REGULAR[:8]).astype(float)
    alive = np.zeros(7)
    alive[-1] = REGULAR[7]
    objective = _sbg_objective(t, churn, alive)
    for phi in (np.log([0.7, 1.2]), np.log([3.0, 0.4])):
        assert objective(phi)[1] == pytest.approx(numerical_gradient(lambda p: objective(p)[0], phi), rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 10), d=st.floats(0.02, 0.5))
def test_derl_equals_the_brute_force_discounted_sum(n, d):
    model = ShiftedBetaGeometricModel().fit(HIGH_END[:8])
    # sum_{t >= n} S(t)/S(n-1) / (1+d)^(t-n), truncated far in the tail
    t = np.arange(n, n + 20000)
    brute = np.sum(model.survival(t) / model.survival(n - 1) * np.exp(-(t - n) * np.log1p(d)))
    assert model.discounted_expected_residual_lifetime(n, discount_rate=d) == pytest.approx(brute, rel=1e-6)


def test_derl_homogeneous_limit_is_the_geometric_series():
    # alpha, beta -> infinity with theta = alpha/(alpha+beta) fixed: no heterogeneity,
    # DERL = (1-theta)(1+d)/(d+theta) (Fader & Hardie 2010, the homogeneous case)
    model = ShiftedBetaGeometricModel().fit(REGULAR[:8])
    model.params_ = {"alpha": 2e6, "beta": 8e6}
    theta, d = 0.2, 0.1
    assert model.discounted_expected_residual_lifetime(3, discount_rate=d) == pytest.approx(
        (1 - theta) * (1 + d) / (d + theta), rel=1e-5
    )


def test_derl_rises_with_tenure_and_clv_is_value_times_derl():
    model = ShiftedBetaGeometricModel().fit(REGULAR[:8])
    derl = model.discounted_expected_residual_lifetime([1, 2, 5, 10], discount_rate=0.1)
    assert np.all(np.diff(derl) > 0)
    clv = model.customer_lifetime_value([100.0, 100.0, 50.0, 50.0], [1, 2, 5, 10], discount_rate=0.1)
    assert clv == pytest.approx(np.array([100.0, 100.0, 50.0, 50.0]) * derl)
    # a new customer's DEL counts her first payment: DEL = 1 + S(1) * DERL(n=1) / (1+d)
    del_ = model.discounted_expected_lifetime(discount_rate=0.1)
    assert del_ == pytest.approx(1 + derl[0] / 1.1)


def test_cohorts_share_parameters_and_pad_with_trailing_nan():
    one = ShiftedBetaGeometricModel().fit(REGULAR[:8])
    table = pd.DataFrame([REGULAR[:8], REGULAR[:8]], index=[2016, 2017])
    two = ShiftedBetaGeometricModel().fit(table)
    assert two.params_ == pytest.approx(one.params_, rel=1e-6)
    assert two.n_cohorts_ == 2 and two.n_customers_ == 2000
    padded = pd.DataFrame([REGULAR[:8], np.r_[REGULAR[:5], [np.nan] * 3]], index=[2016, 2019])
    mixed = ShiftedBetaGeometricModel().fit(padded)
    ragged = ShiftedBetaGeometricModel().fit([REGULAR[:8], REGULAR[:5]])
    assert mixed.params_ == pytest.approx(ragged.params_, rel=1e-9)


@pytest.mark.parametrize(
    ("survival", "match"),
    [
        ([1000, 631, 700, 382], r"survival counts increase from period 1 \(631\) to period 2 \(700\).*new cohort"),
        ([0, 0, 0], "empty.*drop empty cohorts"),
        ([1000], "only the period-0 count"),
        ([1000, np.nan, 468], "missing count at period 1"),
        ([1000, 631.5, 468], "whole numbers >= 0"),
        ([], "empty"),
    ],
)
def test_bad_survival_curves_are_refused_naming_the_period_and_the_fix(survival, match):
    with pytest.raises(DataValidationError, match=match):
        ShiftedBetaGeometricModel().fit(np.asarray(survival, dtype=float))


def test_derl_needs_a_positive_discount_rate_and_a_tenure_of_one_or_more():
    model = ShiftedBetaGeometricModel().fit(REGULAR[:8])
    with pytest.raises(DataValidationError, match="discount_rate must be a finite number > 0"):
        model.discounted_expected_residual_lifetime(1, discount_rate=0.0)
    with pytest.raises(DataValidationError, match="tenure must be whole numbers >= 1"):
        model.discounted_expected_residual_lifetime(0, discount_rate=0.1)


CONTRACTS = pd.DataFrame(
    {
        "contract_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "account_id": ["A", "B", "C", "D", "E", "E"],
        "start_date": ["2020-01-01", "2020-03-01", "2021-06-01", "2020-05-01", "2022-02-01", "2023-02-01"],
        "end_date": [None, "2021-03-01", "2023-01-01", "2022-06-15", "2023-02-01", None],
        "annual_value": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        "tier": ["one_to_one", "one_to_one", "one_to_few", "one_to_few", "one_to_one", "one_to_one"],
    }
)


def test_survival_from_contracts_counts_accounts_alive_at_each_anniversary():
    table = survival_from_contracts(CONTRACTS, observation_end="2024-06-30")
    # A open; B ends on its 1st anniversary (churned at 1); D ends after its 2nd;
    # C (2021) ends before its 2nd; E (2022) renews with a second contract, still open
    expected = pd.DataFrame(
        [[3, 2, 2, 1, 1], [1, 1, 0, 0, np.nan], [1, 1, 1, np.nan, np.nan]],
        index=pd.Index([2020, 2021, 2022], name="cohort"),
        columns=pd.RangeIndex(5),
        dtype=float,
    )
    pd.testing.assert_frame_equal(table, expected)


def test_survival_from_contracts_by_segment_and_missing_columns():
    table = survival_from_contracts(CONTRACTS, observation_end="2024-06-30", segment_col="tier")
    assert table.index.names == ["tier", "cohort"]
    assert table.loc[("one_to_one", 2020)].tolist() == [2.0, 1.0, 1.0, 1.0, 1.0]
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['segment'\]"):
        survival_from_contracts(CONTRACTS, observation_end="2024-06-30", segment_col="segment")
    with pytest.raises(DataValidationError, match="end_date is before start_date at row 1"):
        survival_from_contracts(
            CONTRACTS.assign(end_date=[None, "2019-01-01", None, None, None, None]), observation_end="2024-06-30"
        )
    with pytest.raises(DataValidationError, match="contracts table is empty"):
        survival_from_contracts(CONTRACTS.iloc[:0], observation_end="2024-06-30")


def _simulated_contracts(alpha: float, beta: float, n: int, segment: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    theta = rng.beta(alpha, beta, n)
    lifetime = np.minimum(rng.geometric(theta), 100)  # years until churn, >= 1
    years = pd.to_datetime((2015 + rng.integers(0, 6, n)).astype(str) + "-01-01")
    start = years + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    end = start + pd.to_timedelta(lifetime * 365.25 - 10, unit="D")
    return pd.DataFrame(
        {
            "contract_id": [f"{segment}{i}" for i in range(n)],
            "account_id": [f"{segment}{i}" for i in range(n)],
            "start_date": start,
            "end_date": end.where(end <= pd.Timestamp("2024-12-31")),
            "annual_value": 1.0,
            "segment": segment,
        }
    )


def test_fit_survival_by_segment_recovers_simulated_parameters():
    contracts = pd.concat(
        [_simulated_contracts(0.7, 1.2, 6000, "regular", 1), _simulated_contracts(0.67, 3.8, 6000, "high_end", 2)],
        ignore_index=True,
    )
    models = fit_survival_by_segment(contracts, observation_end="2024-12-31", segment_col="segment")
    assert set(models) == {"regular", "high_end"}
    for name, (a, b) in {"regular": (0.7, 1.2), "high_end": (0.67, 3.8)}.items():
        params, se = models[name].params_, models[name].standard_errors_
        assert abs(params["alpha"] - a) < 4 * se["alpha"], name
        assert abs(params["beta"] - b) < 4 * se["beta"], name
        assert models[name].n_cohorts_ == 6
