"""Markov attribution: contract, a hand-worked chain, and brute-force checks.

The brute force below rebuilds the chain in plain Python (tuple states, dict
counts) and solves it densely with numpy.linalg, independently of the
vectorised integer-coded implementation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution import MarkovAttribution, encode_paths
from attribution._markov import build_structure, markov_removal_effects
from features.errors import ConfigError
from tests.attribution.contract import HYPOTHESIS, AttributionContract, path_tables


class TestMarkovOrder1(AttributionContract):
    @pytest.fixture
    def model(self):
        return MarkovAttribution(order=1)


class TestMarkovOrder2(AttributionContract):
    @pytest.fixture
    def model(self):
        return MarkovAttribution(order=2)


class TestMarkovOrder3Iterative(AttributionContract):
    @pytest.fixture
    def model(self):
        return MarkovAttribution(order=3, solver="iterative")


class TestMarkovAuto(AttributionContract):
    # the seeded held-out thinning draws path by path in row order, so a
    # reordered table gets another (equally valid) split: renaming only
    row_order_invariant = False

    @pytest.fixture
    def model(self):
        return MarkovAttribution(order="auto", max_order=2, random_state=0)


# -- hand-computed ----------------------------------------------------------------
HAND = pd.DataFrame(
    {
        "path": ["a > b", "a", "b"],
        "total_conversions": [1, 0, 1],
        "total_null": [0, 1, 1],
        "total_conversion_value": [10.0, 0.0, 4.0],
    }
)


def test_order1_hand_computed_chain():
    # Transitions (counts): start->a 2, start->b 2; a->b 1, a->null 1;
    # b->conv 2 (paths a>b and b), b->null 1.
    # x_b = 2/3, x_a = 1/2 * 2/3 = 1/3, P = 1/2 * 1/3 + 1/2 * 2/3 = 1/2 (= 2 conv / 4 journeys).
    # Without a: start->a goes to null, P = 1/2 * 2/3 = 1/3, RE_a = 1 - (1/3)/(1/2) = 1/3.
    # Without b: nothing converts, RE_b = 1.
    # Credit = RE / (4/3) * 2 conversions: a = 1/2, b = 3/2.
    # Value: r_v(b) = (10 + 4) / 3, y = 1/2 * (1/2 * 14/3) + 1/2 * 14/3 = 7/2 (= 14 / 4 journeys);
    # without a: 1/2 * 14/3 = 7/3, REV_a = 1/3, REV_b = 1 -> a = 14/4 = 3.5, b = 10.5.
    model = MarkovAttribution(order=1).fit(HAND)
    assert model.conversion_probability_ == pytest.approx(0.5)
    effects = model.removal_effects_.set_index("channel")
    np.testing.assert_allclose(effects["removal_effect"], [1 / 3, 1.0])
    np.testing.assert_allclose(effects["conversion_probability_without"], [1 / 3, 0.0], atol=1e-15)
    np.testing.assert_allclose(effects["normalized"], [0.25, 0.75])
    result = model.result_.set_index("channel")
    np.testing.assert_allclose(result["credit_conversions"], [0.5, 1.5])
    np.testing.assert_allclose(result["credit_value"], [3.5, 10.5])
    table = model.transition_table()
    probability = {(f, t): p for f, t, p in table.itertuples(index=False)}
    assert probability[("(start)", "a")] == pytest.approx(0.5)
    assert probability[("a", "b")] == pytest.approx(0.5)
    assert probability[("b", "(conversion)")] == pytest.approx(2 / 3)
    assert probability[("b", "(null)")] == pytest.approx(1 / 3)
    assert probability[("(conversion)", "(conversion)")] == 1.0


# -- brute force ----------------------------------------------------------------------
def brute_force(table: pd.DataFrame, order: int, collapse: bool = False):
    """Plain-Python order-k chain + dense numpy solve. Returns (credit_conv, credit_value, channels)."""
    counts: dict = {}
    value_in: dict = {}
    for path, conv, null, value in table.itertuples(index=False):
        chans = [c.strip() for c in path.split(">")]
        if collapse:
            chans = [c for i, c in enumerate(chans) if i == 0 or c != chans[i - 1]]
        states = [("START",)] + [tuple(chans[max(0, t - order + 1) : t + 1]) for t in range(len(chans))]
        for s, t in zip(states[:-1], states[1:]):
            counts[(s, t)] = counts.get((s, t), 0.0) + conv + null
        counts[(states[-1], "CONV")] = counts.get((states[-1], "CONV"), 0.0) + conv
        counts[(states[-1], "NULL")] = counts.get((states[-1], "NULL"), 0.0) + null
        value_in[states[-1]] = value_in.get(states[-1], 0.0) + value
    transient = sorted({s for s, _ in counts} | {t for _, t in counts if t not in ("CONV", "NULL")}, key=str)
    index = {s: i for i, s in enumerate(transient)}
    n = len(transient)
    out = np.zeros(n)
    for (s, _), w in counts.items():
        out[index[s]] += w
    q = np.zeros((n, n))
    r = np.zeros((n, 2))
    for (s, t), w in counts.items():
        if out[index[s]] == 0:
            continue
        if t == "CONV":
            r[index[s], 0] += w / out[index[s]]
        elif t != "NULL":
            q[index[s], index[t]] += w / out[index[s]]
    for s, v in value_in.items():
        if out[index[s]] > 0:
            r[index[s], 1] = v / out[index[s]]
    channels = sorted({c.strip() for p in table["path"] for c in p.split(">")})
    start = index[("START",)]
    base = np.linalg.solve(np.eye(n) - q, r)[start]
    effects = []
    for c in channels:
        keep = [i for i, s in enumerate(transient) if c not in s]
        sub = np.linalg.solve(np.eye(len(keep)) - q[np.ix_(keep, keep)], r[keep])
        effects.append(1 - sub[keep.index(start)] / base)
    effects = np.clip(np.array(effects), 0, 1)
    totals = np.array([table["total_conversions"].sum(), table["total_conversion_value"].sum()])
    credit = effects / effects.sum(axis=0) * totals
    return credit[:, 0], credit[:, 1], channels


@HYPOTHESIS
@given(table=path_tables(max_rows=6, max_len=5), order=st.sampled_from([1, 2, 3]), collapse=st.booleans())
def test_matches_brute_force_dense_solve(table, order, collapse):
    model = MarkovAttribution(order=order, collapse_repeats=collapse).fit(table)
    conv, value, channels = brute_force(table, order, collapse)
    assert list(model.channels_) == channels
    np.testing.assert_allclose(model.credit_conversions_, conv, rtol=1e-8, atol=1e-10)
    value_total = table["total_conversion_value"].sum()
    if value_total > 0:
        np.testing.assert_allclose(model.credit_value_, value, rtol=1e-8, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(table=path_tables(max_rows=8, max_len=6), order=st.sampled_from([1, 2, 3]))
def test_solvers_agree(table, order):
    enc = encode_paths(table)
    structure = build_structure(enc, order)
    results = {
        solver: markov_removal_effects(structure, enc.conversions, enc.nulls, enc.values, solver=solver)
        for solver in ("dense", "sparse", "iterative")
    }
    for solver in ("sparse", "iterative"):
        np.testing.assert_allclose(results[solver][0], results["dense"][0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(results[solver][1], results["dense"][1], rtol=1e-10, atol=1e-12)


def test_order1_self_loops_do_not_change_credit():
    table = pd.DataFrame(
        {
            "path": ["a > a > b", "b > b > b", "a > c", "c > c"],
            "total_conversions": [3, 1, 2, 1],
            "total_null": [2, 4, 1, 3],
            "total_conversion_value": [3.0, 1.0, 2.0, 1.0],
        }
    )
    kept = MarkovAttribution(order=1).fit(table)
    collapsed = MarkovAttribution(order=1, collapse_repeats=True).fit(table)
    np.testing.assert_allclose(kept.credit_conversions_, collapsed.credit_conversions_, rtol=1e-12)
    assert kept.transition_matrix_[1, 1] > 0  # self-loop kept at a
    assert collapsed.transition_matrix_[1, 1] == 0


def test_transition_matrix_rows_are_stochastic():
    model = MarkovAttribution(order=2).fit(HAND.assign(path=["a > b > a", "a", "b > b"]))
    sums = np.asarray(model.transition_matrix_.sum(axis=1)).ravel()
    np.testing.assert_allclose(sums, 1.0)
    assert model.states_[0] == "(start)"
    assert list(model.states_[-2:]) == ["(conversion)", "(null)"]
    assert "a > b" in set(model.states_)


def _second_order_paths(n_journeys: int, seed: int) -> pd.DataFrame:
    """Journeys whose next channel depends on the last two channels."""
    rng = np.random.default_rng(seed)
    rows = {}
    for _ in range(n_journeys):
        path = [rng.choice(["a", "b"])]
        while len(path) < 40 and rng.random() < 0.75:
            if len(path) >= 2 and path[-1] == path[-2]:
                path.append("c")  # a repeat is always followed by c
            else:
                path.append(rng.choice(["a", "b", "c"]))
        second_last = path[-2] if len(path) >= 2 else None
        converted = rng.random() < (0.6 if (second_last, path[-1]) == ("a", "c") else 0.1)
        key = " > ".join(path)
        conv, null = rows.get(key, (0, 0))
        rows[key] = (conv + converted, null + (not converted))
    return pd.DataFrame(
        [(k, c, n, 10.0 * c) for k, (c, n) in rows.items()],
        columns=["path", "total_conversions", "total_null", "total_conversion_value"],
    )


def test_auto_order_prefers_second_order_on_second_order_data():
    table = _second_order_paths(4000, seed=1)
    model = MarkovAttribution(order="auto", max_order=3, random_state=0).fit(table)
    assert set(model.order_scores_) == {1, 2, 3}
    assert model.order_ == 2
    assert model.result_["model"].iloc[0] == "markov_order_2"
    again = MarkovAttribution(order="auto", max_order=3, random_state=0).fit(table)
    assert again.order_scores_ == model.order_scores_


def test_auto_order_scores_are_log_likelihoods():
    table = _second_order_paths(500, seed=2)
    model = MarkovAttribution(order="auto", max_order=2, random_state=1).fit(table)
    assert all(np.isfinite(v) and v < 0 for v in model.order_scores_.values())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"order": 5}, "order=5 must be one of 1, 2, 3, 4 or 'auto'"),
        ({"order": "best"}, "order='best'"),
        ({"holdout": 1.0}, "holdout=1.0 must be a fraction"),
        ({"solver": "magic"}, "solver='magic'"),
    ],
)
def test_bad_hyperparameters_are_config_errors(params, message):
    with pytest.raises(ConfigError, match=message):
        MarkovAttribution(**params).fit(HAND)
