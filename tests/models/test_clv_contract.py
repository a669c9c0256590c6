"""Contract tests every CLV estimator passes (STYLE.md convention 7).

A new model adds one entry to ``CASES``: a factory for the unfitted model and
a small fitting input. The checks are the scikit-learn estimator contract as
this project uses it: keyword-only hyperparameters, ``clone``, ``fit`` returns
``self``, learned state ends in ``_``, ``NotFittedError`` before fit,
idempotent refits, positive parameters with finite standard errors, and no
MLflow import from model code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import models.clv as clv
from models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel, ShiftedBetaGeometricModel

DATA = Path(__file__).resolve().parents[1] / "data"


def _cdnow_rfm() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary.csv", index_col="ID")


def _cdnow_repeat_spend() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    frame = frame.rename(columns={"x": "frequency", "zbar": "monetary_value"})
    return frame[frame["frequency"] > 0][["frequency", "monetary_value"]]


CASES = {
    "bgnbd": (BetaGeoModel, lambda: _cdnow_rfm().iloc[:600]),
    "pareto_nbd": (ParetoNBDModel, lambda: _cdnow_rfm().iloc[:600]),
    "gamma_gamma": (GammaGammaModel, _cdnow_repeat_spend),
    "sbg": (ShiftedBetaGeometricModel, lambda: np.array([1000, 631, 468, 382, 326, 289, 262, 241])),
}


@pytest.fixture(params=sorted(CASES), ids=sorted(CASES))
def case(request):
    cls, data = CASES[request.param]
    return cls, data()


class TestCLVEstimatorContract:
    def test_hyperparameters_are_keyword_only(self, case):
        cls, _ = case
        with pytest.raises(TypeError):
            cls(100)

    def test_clone_and_get_params_round_trip(self, case):
        cls, _ = case
        model = cls(max_iter=55)
        twin = clone(model)
        assert twin.get_params() == model.get_params()
        assert twin.max_iter == 55

    def test_unfitted_model_raises_sklearn_not_fitted_error(self, case):
        cls, _ = case
        with pytest.raises(NotFittedError):
            cls().summary()

    def test_fit_returns_self_and_sets_trailing_underscore_state(self, case):
        cls, data = case
        model = cls()
        assert model.fit(data) is model
        assert set(model.params_) == set(model._param_names)
        assert all(v > 0 for v in model.params_.values())
        assert np.isfinite(model.log_likelihood_)
        assert all(np.isfinite(v) and v > 0 for v in model.standard_errors_.values())
        assert model.covariance_.shape == (len(model.params_),) * 2
        table = model.summary()
        assert list(table.index) == list(model._param_names)

    def test_fitting_twice_is_idempotent(self, case):
        cls, data = case
        first = cls().fit(data).params_
        second = cls().fit(data).fit(data).params_
        assert first == pytest.approx(second, rel=1e-9)

    def test_clone_of_fitted_model_is_unfitted(self, case):
        cls, data = case
        with pytest.raises(NotFittedError):
            clone(cls().fit(data)).summary()


def test_public_face_lists_everything_it_exports():
    for name in clv.__all__:
        assert hasattr(clv, name), name


def test_models_never_import_mlflow():
    # DESIGN.md: models import only features; MLflow lives in experiments/
    package = Path(clv.__file__).resolve().parent
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in {"mlflow", "experiments", "attribution", "kpis", "reports"}, (path.name, name)
