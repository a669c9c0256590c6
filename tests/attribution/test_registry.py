"""Registry, make_model and the multi-model attribute() helper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import attribution
from attribution import MODELS, MarkovAttribution, attribute, encode_paths, make_model
from features.errors import ConfigError
from tests.attribution.contract import small_table


def test_public_face():
    for name in attribution.__all__:
        assert hasattr(attribution, name)
    assert {"first_touch", "last_touch", "linear", "position_based", "time_decay", "markov"} <= set(MODELS)
    for name, cls in MODELS.items():
        assert cls.name == name
        model = cls()
        assert clone(model).get_params() == model.get_params()  # sklearn contract


def test_make_model_builds_with_parameters():
    model = make_model("markov", order=2, collapse_repeats=True)
    assert isinstance(model, MarkovAttribution) and model.order == 2


def test_unknown_model_lists_the_known_names():
    with pytest.raises(ConfigError, match="unknown attribution model 'markv'; known models: .*first_touch.*markov"):
        make_model("markv")


def test_unknown_parameter_lists_the_known_ones():
    with pytest.raises(ConfigError, match="known parameters: .*order"):
        make_model("markov", ordr=2)


def test_attribute_stacks_models_and_encodes_once():
    result = attribute(small_table(), ["first_touch", MarkovAttribution(order=2), "linear"])
    assert list(result["model"].unique()) == ["first_touch", "markov_order_2", "linear"]
    sums = result.groupby("model", sort=False)["credit_conversions"].sum()
    np.testing.assert_allclose(sums, 15.0)
    same = attribute(encode_paths(small_table()), ["first_touch", MarkovAttribution(order=2), "linear"])
    pd.testing.assert_frame_equal(result, same)


def test_attribute_by_slices():
    table = pd.concat([small_table().assign(region="emea"), small_table().assign(region="na")])
    result = attribute(table, ["first_touch", "linear"], by=["region"])
    assert list(result.columns[:2]) == ["region", "model"]
    assert len(result) == 2 * 2 * 4
