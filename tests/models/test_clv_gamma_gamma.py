"""Gamma-Gamma spend model and discounted CLV.

Source of the reference numbers: Fader, P. S., & Hardie, B. G. S. (2013),
"The Gamma-Gamma Model of Monetary Value": on the 946 repeat buyers of the
CDNOW sample (39-week calibration), p = 6.25, q = 3.74, gamma = 15.44.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.errors import DataValidationError
from models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from models.clv._base import numerical_gradient
from models.clv._gamma_gamma import _gg_objective

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    return frame.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="module")
def repeat_buyers(cdnow) -> pd.DataFrame:
    return cdnow[cdnow["frequency"] > 0]


@pytest.fixture(scope="module")
def fitted(repeat_buyers) -> GammaGammaModel:
    return GammaGammaModel().fit(repeat_buyers)


def test_gamma_gamma_params_close_to_fader_hardie_2013_cdnow_946_repeat_buyers(repeat_buyers, fitted):
    # Fader & Hardie (2013): p 6.25, q 3.74, gamma 15.44
    assert len(repeat_buyers) == 946
    assert fitted.params_["p"] == pytest.approx(6.25, abs=5e-3)
    assert fitted.params_["q"] == pytest.approx(3.74, abs=5e-3)
    assert fitted.params_["v"] == pytest.approx(15.44, abs=1e-2)


def test_analytic_gradient_matches_central_differences(repeat_buyers):
    x = repeat_buyers["frequency"].to_numpy(float)
    m = repeat_buyers["monetary_value"].to_numpy(float)
    objective = _gg_objective(x, m, None)
    for phi in (np.log([6.0, 3.7, 15.0]), np.log([1.0, 1.0, 30.0])):
        numeric = numerical_gradient(lambda p: objective(p)[0], phi)
        assert objective(phi)[1] == pytest.approx(numeric, rel=1e-5, abs=1e-4)


def test_expected_average_profit_is_the_credibility_weighted_mean(fitted, cdnow):
    p, q, v = (fitted.params_[k] for k in ("p", "q", "v"))
    x = cdnow["frequency"].to_numpy(float)
    m = cdnow["monetary_value"].to_numpy(float)
    weight = p * x / (p * x + q - 1)
    want = (1 - weight) * p * v / (q - 1) + weight * m
    got = fitted.expected_average_profit(cdnow)
    assert got == pytest.approx(want, rel=1e-12)
    # no repeat purchase: the population mean spend
    assert got[x == 0] == pytest.approx(fitted.population_mean_spend())


@pytest.mark.parametrize("transaction_cls", [BetaGeoModel, ParetoNBDModel])
def test_clv_is_the_discounted_sum_of_monthly_purchases_times_spend(cdnow, fitted, transaction_cls):
    rfm = cdnow[["frequency", "recency", "T"]]
    model = transaction_cls().fit(rfm)
    got = fitted.customer_lifetime_value(model, cdnow, time=6, discount_rate=0.02, freq="W")
    spend = fitted.expected_average_profit(cdnow)
    want = np.zeros(len(cdnow))
    for month in range(1, 7):  # literal loop over months, 4.345 weeks each
        step = model.expected_purchases(month * 4.345, rfm) - model.expected_purchases((month - 1) * 4.345, rfm)
        want += spend * step / 1.02**month
    assert got == pytest.approx(want, rel=1e-10)
    assert np.all(got >= 0)


def test_zero_frequency_rows_are_refused_for_fitting_with_the_filter_to_use(cdnow):
    with pytest.raises(DataValidationError, match=r"frequency must be a whole number >= 1.*frequency'\] > 0"):
        GammaGammaModel().fit(cdnow)


def test_non_positive_spend_is_refused(repeat_buyers):
    bad = repeat_buyers.copy()
    label = bad.index[3]
    bad.loc[label, "monetary_value"] = -2.0
    with pytest.raises(DataValidationError, match=f"monetary_value must be > 0.*row {label} has -2.0"):
        GammaGammaModel().fit(bad)


def test_unknown_clv_frequency_is_refused(cdnow, fitted):
    with pytest.raises(DataValidationError, match="freq must be one of"):
        fitted.customer_lifetime_value(BetaGeoModel().fit(cdnow[["frequency", "recency", "T"]]), cdnow, freq="Q")
