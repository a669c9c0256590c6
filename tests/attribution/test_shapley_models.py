"""Estimator wrappers of the Shapley functions: the shared contract.

The Shapley maths is tested in test_shapley.py; here only the wrapping.
"""

from __future__ import annotations

import numpy as np
import pytest

from attribution import Shapley, ShapleyOrdered, ShapleyRate
from tests.attribution.contract import AttributionContract, small_table


class TestShapley(AttributionContract):
    @pytest.fixture
    def model(self):
        return Shapley()


class TestShapleyOrdered(AttributionContract):
    @pytest.fixture
    def model(self):
        return ShapleyOrdered()

    def test_position_credits_add_up_to_channel_credits(self):
        model = ShapleyOrdered().fit(small_table())
        by_channel = model.position_credits_.groupby("channel")["credit_conversions"].sum()
        np.testing.assert_allclose(by_channel.reindex(model.channels_).fillna(0), model.credit_conversions_)


class TestShapleyRate(AttributionContract):
    @pytest.fixture
    def model(self):
        return ShapleyRate()

    def test_std_err_is_none_when_exact(self):
        assert ShapleyRate().fit(small_table()).std_err_ is None
