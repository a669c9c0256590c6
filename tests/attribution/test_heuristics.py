"""Heuristic models: the shared contract plus hand-computed references.

The reference table below is worked by hand in the comments; first, last and
linear follow ChannelAttribution's ``heuristic_models`` definitions
(Altomare & Loris, ChannelAttribution 2.x: first_touch, last_touch,
linear_touch), which the benchmark also checks on 230k paths.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution import FirstTouch, LastTouch, Linear, PositionBased, TimeDecay
from features.errors import ConfigError, DataValidationError, SchemaError
from tests.attribution.contract import AttributionContract

# conv: 2 + 1 + 1 + 3 + 0 = 7; value: 20 + 5 + 10 + 30 = 65
HAND = pd.DataFrame(
    {
        "path": ["a > b > c", "b", "c > a", "a > a > b", "c"],
        "total_conversions": [2, 1, 1, 3, 0],
        "total_null": [1, 0, 2, 0, 5],
        "total_conversion_value": [20.0, 5.0, 10.0, 30.0, 0.0],
    }
)


def credit(model):
    return model.fit(HAND).result_.set_index("channel")


class TestFirstTouch(AttributionContract):
    @pytest.fixture
    def model(self):
        return FirstTouch()

    def test_hand_computed(self):
        # a: 2 (a>b>c) + 3 (a>a>b); b: 1; c: 1 (c>a)
        result = credit(FirstTouch())
        np.testing.assert_allclose(result["credit_conversions"], [5, 1, 1])
        np.testing.assert_allclose(result["credit_value"], [50, 5, 10])


class TestLastTouch(AttributionContract):
    @pytest.fixture
    def model(self):
        return LastTouch()

    def test_hand_computed(self):
        # a: 1 (c>a); b: 1 (b) + 3 (a>a>b); c: 2 (a>b>c)
        result = credit(LastTouch())
        np.testing.assert_allclose(result["credit_conversions"], [1, 4, 2])
        np.testing.assert_allclose(result["credit_value"], [10, 35, 20])


class TestLinear(AttributionContract):
    @pytest.fixture
    def model(self):
        return Linear()

    def test_hand_computed(self):
        # a: 2/3 + 1/2 + 3 * 2/3 = 19/6; b: 2/3 + 1 + 3/3 = 8/3; c: 2/3 + 1/2 = 7/6
        result = credit(Linear())
        np.testing.assert_allclose(result["credit_conversions"], [19 / 6, 8 / 3, 7 / 6])
        # value: a: 20/3 + 5 + 20 ; b: 20/3 + 5 + 10 ; c: 20/3 + 5
        np.testing.assert_allclose(result["credit_value"], [20 / 3 + 25, 20 / 3 + 15, 20 / 3 + 5])


class TestPositionBased(AttributionContract):
    @pytest.fixture
    def model(self):
        return PositionBased()

    def test_hand_computed(self):
        # a>b>c x2: a .8, b .4, c .8 | b: b 1 | c>a: .5/.5 | a>a>b x3: a 1.2 + .6, b 1.2
        result = credit(PositionBased())
        np.testing.assert_allclose(result["credit_conversions"], [3.1, 2.6, 1.3])

    def test_two_touches_split_by_first_and_last_weights(self):
        table = pd.DataFrame({"path": ["a > b"], "total_conversions": [1], "total_null": [0], "total_conversion_value": [1.0]})
        result = PositionBased(first=0.6, last=0.2).fit(table).result_.set_index("channel")
        np.testing.assert_allclose(result["credit_conversions"], [0.75, 0.25])

    @pytest.mark.parametrize("params", [{"first": 0.7, "last": 0.4}, {"first": -0.1}, {"first": 0, "last": 0}])
    def test_bad_weights_are_refused(self, params):
        with pytest.raises(ConfigError, match="first \\+ last <= 1"):
            PositionBased(**params).fit(HAND)


class TestTimeDecay(AttributionContract):
    @pytest.fixture
    def model(self):
        return TimeDecay()

    def test_hand_computed_half_life_one_touch(self):
        # a>b>c x2: weights a .25, b .5, c 1 (/1.75) -> a 2/7, b 4/7, c 8/7
        # b: b 1 | c>a: c .5, a 1 (/1.5) -> a 2/3, c 1/3
        # a>a>b x3: a .25 + .5, b 1 (/1.75) -> a 9/7, b 12/7
        result = credit(TimeDecay(half_life=1.0))
        np.testing.assert_allclose(result["credit_conversions"], [47 / 21, 23 / 7, 31 / 21])

    def test_long_half_life_tends_to_linear(self):
        decay = credit(TimeDecay(half_life=1e9))["credit_conversions"]
        linear = credit(Linear())["credit_conversions"]
        np.testing.assert_allclose(decay, linear, rtol=1e-6)

    def test_bad_half_life_is_refused(self):
        with pytest.raises(ConfigError, match="half_life=0 must be a finite number > 0"):
            TimeDecay(half_life=0).fit(HAND)


JOURNEYS = pd.DataFrame(
    {
        "journey_id": ["j1", "j1", "j1", "j2", "j2", "j3"],
        "channel": ["email", "search", "email", "events", "search", "email"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-02-01", "2024-02-02", "2024-03-01"]),
        "days_to_conversion": [14.0, 7.0, 0.0, 1.0, 0.0, np.nan],
        "converted": [1, 1, 1, 1, 1, 0],
        "conversion_value": [100.0, 100.0, 100.0, 50.0, 50.0, 0.0],
    }
)


class TestTimeDecayJourneys:
    def test_hand_computed_half_life_in_days(self):
        # j1 (7-day half-life): email 0.25 + 1, search 0.5 -> /1.75: email 5/7, search 2/7
        # j2: events 0.5**(1/7), search 1 -> events w/(1+w), search 1/(1+w)
        w = 0.5 ** (1 / 7)
        model = TimeDecay(half_life_days=7.0).fit_journeys(JOURNEYS)
        result = model.result_.set_index("channel")
        np.testing.assert_allclose(result.loc["email", "credit_conversions"], 5 / 7)
        np.testing.assert_allclose(result.loc["events", "credit_conversions"], w / (1 + w))
        np.testing.assert_allclose(result.loc["search", "credit_conversions"], 2 / 7 + 1 / (1 + w))
        np.testing.assert_allclose(result.loc["email", "credit_value"], 500 / 7)
        assert result["credit_conversions"].sum() == pytest.approx(2.0)
        assert result["credit_value"].sum() == pytest.approx(150.0)

    def test_bootstrap_resamples_journeys(self):
        model = TimeDecay(ci=0.9, n_boot=50, random_state=3).fit_journeys(JOURNEYS)
        assert {"ci_low", "ci_high"} <= set(model.result_.columns)
        assert model.bootstrap_credits_.shape == (50, 3)

    def test_far_conversions_do_not_underflow(self):
        far = JOURNEYS.assign(days_to_conversion=JOURNEYS["days_to_conversion"] + 1e6)
        result = TimeDecay(half_life_days=7.0).fit_journeys(far).result_
        assert result["credit_conversions"].sum() == pytest.approx(2.0)

    def test_missing_column_and_bad_days(self):
        with pytest.raises(SchemaError, match="no column 'days_to_conversion'"):
            TimeDecay().fit_journeys(JOURNEYS.drop(columns="days_to_conversion"))
        bad = JOURNEYS.assign(days_to_conversion=[14.0, -1.0, 0.0, 1.0, 0.0, np.nan])
        with pytest.raises(DataValidationError, match="'days_to_conversion' row 1: -1.0 must be a finite number of days"):
            TimeDecay().fit_journeys(bad)
        with pytest.raises(DataValidationError, match="journey table is empty"):
            TimeDecay().fit_journeys(JOURNEYS.iloc[0:0])


def test_first_last_linear_match_channelattribution_when_installed():
    """Peer check (ChannelAttribution heuristic_models); skipped without it."""
    ca = pytest.importorskip("ChannelAttribution")
    table = HAND[HAND["total_conversions"] > 0].reset_index(drop=True)
    theirs = ca.heuristic_models(table, "path", "total_conversions", var_value="total_conversion_value", flg_pro=False)
    theirs = theirs.set_index("channel_name").sort_index()
    for model, column in ((FirstTouch(), "first_touch"), (LastTouch(), "last_touch"), (Linear(), "linear_touch")):
        ours = model.fit(table).result_.set_index("channel")
        np.testing.assert_allclose(ours["credit_conversions"], theirs[f"{column}_conversions"], rtol=1e-9)
        np.testing.assert_allclose(ours["credit_value"], theirs[f"{column}_value"], rtol=1e-9)
