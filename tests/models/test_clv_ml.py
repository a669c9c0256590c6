"""ML CLV (XGBoost on account features) against the probabilistic models, time-split holdout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from features.errors import DataValidationError
from features.synthetic import generate_dataset
from models.clv import (
    MLCLVModel,
    build_clv_features,
    clv_comparison,
    clv_holdout_predictions,
    clv_metrics,
    holdout_revenue,
)

CUTOFF = pd.Timestamp("2025-06-30", tz="UTC")
FAST = {"n_estimators": 40, "max_depth": 3}


@pytest.fixture(scope="module")
def tables():
    return generate_dataset(500, seed=11).tables


@pytest.fixture(scope="module")
def holdout(tables):
    return clv_holdout_predictions(tables, CUTOFF, 6, model=MLCLVModel(**FAST, random_state=3))


def _rewrite_future(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Change everything that happens after the cut-off (and nothing before it)."""
    t = {k: v.copy() for k, v in tables.items()}
    tp = t["touchpoints"]
    t["touchpoints"] = tp[tp["timestamp"] <= cutoff]
    o = t["opportunities"]
    o = o[o["created_at"] <= cutoff].copy()
    after = o["closed_at"].isna() | (o["closed_at"] > cutoff)
    # outcomes of the opportunities open at the cut-off flip, and they close much later
    o.loc[after, "is_won"] = ~o.loc[after, "is_won"]
    o.loc[after, "closed_at"] = cutoff + pd.Timedelta(days=3)
    o.loc[after, "stage"] = "closed_lost"
    t["opportunities"] = o
    st = t["opportunity_stages"]
    t["opportunity_stages"] = st[st["entered_at"] <= cutoff]
    k = t["contracts"]
    k = k[k["start_date"] <= cutoff].copy()
    k.loc[k["end_date"] > cutoff, "end_date"] = cutoff + pd.Timedelta(days=1)
    t["contracts"] = k
    return t


def test_features_do_not_leak_data_after_the_cutoff(tables):
    before = build_clv_features(tables, CUTOFF, window_months=6)
    after = build_clv_features(_rewrite_future(tables, CUTOFF), CUTOFF, window_months=6)
    pd.testing.assert_frame_equal(before, after)
    # and the future was indeed changed
    assert not holdout_revenue(tables, CUTOFF, 6).equals(holdout_revenue(_rewrite_future(tables, CUTOFF), CUTOFF, 6))


def test_features_cover_rfm_firmographics_pipeline_and_signals(tables):
    X = build_clv_features(tables, CUTOFF)
    assert list(X.index) == list(tables["accounts"]["account_id"])
    for col in ("frequency", "recency", "T", "monetary_value", "segment", "abm_tier", "annual_revenue",
                "n_open_opportunities", "active_annual_value", "role_coverage_weighted", "n_touches"):
        assert col in X.columns
    assert (X["frequency"] >= 0).all() and (X["frequency"] == np.floor(X["frequency"])).all()
    # every account is born at the data start: T is the same for all
    assert X["T"].nunique() == 1


def test_holdout_revenue_billings_counts_start_and_active_anniversaries():
    accounts = pd.DataFrame({"account_id": ["A", "B"], "segment": "smb", "industry": "x", "region": "NA",
                             "business_unit": "b", "abm_tier": "none", "annual_revenue": 1.0})
    utc = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731
    contracts = pd.DataFrame({
        "contract_id": ["K1", "K2", "K3"], "account_id": ["A", "A", "B"],
        # K1 renews on 2025-03-01 (still active); K2 ended before its anniversary; K3 starts in the holdout
        "start_date": [utc("2024-03-01"), utc("2024-04-01"), utc("2025-05-01")],
        "end_date": [pd.NaT, utc("2025-03-15"), pd.NaT],
        "annual_value": [100.0, 50.0, 30.0],
    })
    y = holdout_revenue({"accounts": accounts, "contracts": contracts}, "2025-01-01", 6, revenue="billings")
    assert y.to_dict() == {"A": 100.0, "B": 30.0}


def test_top_decile_metrics_on_a_hand_example():
    actual = np.zeros(20)
    actual[[0, 2, 9]] = [100.0, 50.0, 10.0]  # k = 2: the true top 2 are accounts 0 and 2
    good = np.zeros(20)
    good[[0, 2]] = [80.0, 40.0]
    bad = np.zeros(20)
    bad[[9, 1]] = [5.0, 4.0]
    m = clv_metrics(actual, {"good": good, "bad": bad}).set_index("model")
    assert m.loc["good", "top_decile_capture"] == pytest.approx(150 / 160)
    assert m.loc["good", "top_decile_precision"] == 1.0
    assert m.loc["bad", "top_decile_capture"] == pytest.approx(10 / 160)
    assert m.loc["bad", "top_decile_precision"] == 0.0
    assert m.loc["good", "mae"] == pytest.approx((20 + 10 + 10) / 20)
    assert m.loc["bad", "rmse"] == pytest.approx(np.sqrt((100**2 + 50**2 + 4**2 + 5**2) / 20))


def test_top_decile_precision_uses_only_revenue_accounts_when_fewer_than_k():
    actual = np.zeros(30)
    actual[5] = 7.0  # k = 3 but one account has revenue
    pred = np.zeros(30)
    pred[[5, 6, 7]] = [3.0, 2.0, 1.0]
    m = clv_metrics(actual, {"p": pred})
    assert m.loc[0, "top_decile_precision"] == 1.0 and m.loc[0, "top_decile_capture"] == 1.0


def test_clv_comparison_table(tables):
    table = clv_comparison(tables, "2025-06-30", 6, model=MLCLVModel(**FAST))
    assert list(table["model"]) == ["BG/NBD + Gamma-Gamma", "Pareto/NBD + Gamma-Gamma", "XGBoost", "naive: last period"]
    assert np.isfinite(table[["mae", "rmse"]].to_numpy()).all()
    assert table["top_decile_capture"].between(0, 1).all()
    assert table["top_decile_precision"].between(0, 1).all()


def test_holdout_predictions_are_deterministic_for_a_seed(tables, holdout):
    again = clv_holdout_predictions(tables, CUTOFF, 6, model=MLCLVModel(**FAST, random_state=3))
    pd.testing.assert_frame_equal(holdout.predictions, again.predictions)
    pd.testing.assert_frame_equal(holdout.model.shap_importance_, again.model.shap_importance_)


def test_holdout_models_predict_nonnegative_revenue(holdout):
    assert (holdout.predictions.drop(columns="XGBoost") >= 0).all().all()
    assert holdout.transaction_models["bg_nbd"].params_["r"] > 0
    assert holdout.actual.sum() > 0


def test_mlclv_model_is_a_sklearn_estimator_with_shap(holdout):
    X = holdout.features.drop(columns=["T", "recency"])
    y = holdout.actual.to_numpy()
    model = clone(MLCLVModel(**FAST))
    assert model.fit(X, y) is model
    imp = model.shap_importance_
    assert imp["share"].sum() == pytest.approx(1.0)
    assert (np.diff(imp["mean_abs_shap"]) <= 0).all()
    # SHAP contributions plus the base value give the prediction (squared error: identity link)
    phi = model.shap_values(X.iloc[:50])
    assert list(phi.columns) == [*X.columns, "bias"]
    assert phi.sum(axis=1).to_numpy() == pytest.approx(model.predict(X.iloc[:50]), rel=1e-4, abs=1e-2)
    with pytest.raises(NotFittedError):
        MLCLVModel().predict(X)


def test_mlclv_refuses_bad_targets():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(DataValidationError, match="y has a missing or infinite"):
        MLCLVModel(**FAST).fit(X, [1.0, np.nan, 2.0])
    with pytest.raises(DataValidationError, match="every y is 0"):
        MLCLVModel(**FAST, objective="reg:tweedie").fit(X, [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("cutoff", "months", "match"),
    [
        ("2019-01-01", 6, "cutoff 2019-01-01 is outside the data"),
        ("2027-01-01", 6, "cutoff 2027-01-01 is outside the data"),
        ("2025-10-31", 6, "runs past the end of the data.*smaller holdout_months"),
        ("2024-03-01", 6, "less than holdout_months=6 of history"),
    ],
)
def test_bad_windows_are_refused_with_the_fix(tables, cutoff, months, match):
    with pytest.raises(DataValidationError, match=match):
        clv_comparison(tables, cutoff, months)


def test_holdout_without_revenue_is_refused(tables):
    t = dict(tables)
    o = t["opportunities"].copy()
    o.loc[o["closed_at"] > CUTOFF, "is_won"] = False
    t["opportunities"] = o
    with pytest.raises(DataValidationError, match="no bookings revenue in the holdout"):
        clv_comparison(t, CUTOFF, 6)


def test_bad_parameters_are_refused(tables):
    with pytest.raises(DataValidationError, match="revenue must be one of"):
        clv_comparison(tables, CUTOFF, 6, revenue="profit")
    with pytest.raises(DataValidationError, match="holdout_months must be a whole number"):
        clv_comparison(tables, CUTOFF, 0)
    with pytest.raises(DataValidationError, match="window_months must be a whole number"):
        build_clv_features(tables, CUTOFF, window_months=0)
    with pytest.raises(DataValidationError, match="cutoff 'soon' is not a date"):
        clv_comparison(tables, "soon", 6)
