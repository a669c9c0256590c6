"""Multinomial bootstrap: the resampling law, determinism and the intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution import Linear, MarkovAttribution
from attribution._bootstrap import bootstrap_intervals, multinomial_weights
from features.errors import ConfigError
from tests.attribution.contract import small_table


def test_replicates_resample_all_journeys_and_keep_value_per_conversion():
    conv = np.array([4.0, 0.0, 6.0])
    null = np.array([10.0, 8.0, 0.0])
    value = np.array([40.0, 0.0, 12.0])
    draws = list(multinomial_weights(conv, null, value, 200, np.random.default_rng(0)))
    assert len(draws) == 200
    for c, u, v in draws:
        assert c.sum() + u.sum() == 28
        assert u[2] == 0 and c[1] == 0  # empty cells stay empty
        np.testing.assert_allclose(v, c * np.array([10.0, 0.0, 2.0]))
    mean_conv = np.mean([c for c, _, _ in draws], axis=0)
    np.testing.assert_allclose(mean_conv, conv, atol=0.6)  # E[c*] = c


def test_intervals_are_deterministic_for_a_seed_and_cover_the_estimate():
    model = Linear(ci=0.95, n_boot=300, random_state=11).fit(small_table())
    again = Linear(ci=0.95, n_boot=300, random_state=11).fit(small_table())
    pd.testing.assert_frame_equal(model.result_, again.result_)
    result = model.result_
    assert (result["ci_low"] <= result["credit_conversions"]).all()
    assert (result["credit_conversions"] <= result["ci_high"]).all()
    assert ((0 <= result["share_ci_low"]) & (result["share_ci_high"] <= 1)).all()
    other = Linear(ci=0.95, n_boot=300, random_state=12).fit(small_table()).result_
    assert not np.allclose(other["ci_low"], result["ci_low"])


def test_markov_bootstrap_shape_and_refit_without_ci_drops_replicates():
    model = MarkovAttribution(order=2, ci=0.8, n_boot=30, random_state=0).fit(small_table())
    assert model.bootstrap_credits_.shape == (30, 4)
    totals = model.bootstrap_credits_.sum(axis=1)  # each replicate's own conversions
    np.testing.assert_allclose(totals, np.rint(totals))
    assert totals.min() > 0 and totals.std() > 0
    model.set_params(ci=None).fit(small_table())
    assert not hasattr(model, "bootstrap_credits_")
    assert "ci_low" not in model.result_


def test_bootstrap_credits_sum_to_each_replicates_conversions():
    table = small_table()
    enc_conv = []

    def credit(c, u, v):
        enc_conv.append(c.sum())
        return np.array([c.sum(), 0.0]), np.array([v.sum(), 0.0])

    _, reps = bootstrap_intervals(
        credit, table["total_conversions"].to_numpy(float), table["total_null"].to_numpy(float),
        table["total_conversion_value"].to_numpy(float), ci=0.9, n_boot=25, random_state=1,
    )
    np.testing.assert_allclose(reps[:, 0], enc_conv)


@pytest.mark.parametrize(("ci", "n_boot", "message"), [(0.0, 10, "ci=0.0"), (0.9, 1, "n_boot=1")])
def test_bad_settings_are_config_errors(ci, n_boot, message):
    with pytest.raises(ConfigError, match=message):
        Linear(ci=ci, n_boot=n_boot).fit(small_table())
