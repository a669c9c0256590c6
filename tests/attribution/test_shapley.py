"""Tests of the Shapley family (attribution/_shapley.py).

The fast algorithms (unanimity closed form, identity-game closed form,
quadrature over zeta transforms, permutation sampling) are checked against a
brute force that enumerates every arrival order of the players and averages
marginal contributions of the same characteristic function (Shapley, 1953),
on random small path tables (hypothesis), plus hand-computed examples.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution._encoding import encode_paths
from attribution._shapley import (
    ShapleyEstimate,
    _channel_sets,
    _global_phi,
    _rates,
    ordered_shapley,
    shapley_rate,
    simplified_shapley,
)
from features.errors import DataValidationError

HYPO = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def table(paths, conversions, nulls, values=None) -> pd.DataFrame:
    conversions = np.asarray(conversions, dtype=float)
    return pd.DataFrame(
        {
            "path": paths,
            "total_conversions": conversions,
            "total_null": np.asarray(nulls, dtype=float),
            "total_conversion_value": conversions * 10.0 if values is None else values,
        }
    )


# ----------------------------------------------------------------- brute force


def observed_sets(enc):
    """{bitmask: [conversions, nulls, value]} by a plain loop (independent of the module)."""
    index = {name: k for k, name in enumerate(enc.channels)}
    out: dict[int, list[float]] = {}
    for p in range(enc.n_paths):
        mask = sum(1 << index[c] for c in set(enc.path(p)))
        acc = out.setdefault(mask, [0.0, 0.0, 0.0])
        acc[0] += enc.conversions[p]
        acc[1] += enc.nulls[p]
        acc[2] += enc.values[p]
    return out


def rate_table(enc) -> np.ndarray:
    """(2^K, 2) v(S) = [conversion rate, value per journey] of the journeys with set == S."""
    v = np.zeros((1 << enc.n_channels, 2))
    for mask, (c, n, y) in observed_sets(enc).items():
        if c + n > 0:
            v[mask] = [c / (c + n), y / (c + n)]
    return v


def brute_shapley(players, v_table) -> np.ndarray:
    """(K_table, 2) Shapley values by enumerating all |players|! arrival orders."""
    players = np.asarray(players)
    perms = np.array(list(itertools.permutations(players)))
    bits = np.left_shift(1, perms)
    after = np.cumsum(bits, axis=1)
    gain = v_table[after] - v_table[after - bits]  # (n!, n, 2) marginal contributions
    phi = np.zeros((int(np.log2(len(v_table))), 2))
    np.add.at(phi, perms, gain)
    return phi / math.factorial(len(players))


def brute_journey(enc) -> np.ndarray:
    """(K, 2) DP6 journey game: each converting set's Shapley values x its journeys."""
    v = rate_table(enc)
    credit = np.zeros((enc.n_channels, 2))
    for mask, (c, n, y) in observed_sets(enc).items():
        members = [k for k in range(enc.n_channels) if mask >> k & 1]
        phi = brute_shapley(members, v)
        credit[:, 0] += (c + n) * phi[:, 0] if c > 0 else 0.0
        credit[:, 1] += (c + n) * phi[:, 1] if y > 0 else 0.0
    return credit


def brute_subset_sum_v(enc) -> np.ndarray:
    """(2^K, 2) v(S) = conversions / value of the journeys whose set is a subset of S."""
    v = np.zeros((1 << enc.n_channels, 2))
    sets = observed_sets(enc)
    for s in range(len(v)):
        for mask, (c, _, y) in sets.items():
            if mask & ~s == 0:
                v[s] += [c, y]
    return v


# ------------------------------------------------------------------ strategies


@st.composite
def path_tables(draw, min_channels=2, max_channels=8, max_paths=10, max_len=6):
    k = draw(st.integers(min_channels, max_channels))
    names = draw(st.permutations([f"ch_{c}" for c in "qwertyuiopasdfgh"[:k]]))
    n = draw(st.integers(1, max_paths))
    paths = draw(
        st.lists(
            st.lists(st.sampled_from(names), min_size=1, max_size=max_len), min_size=n, max_size=n
        )
    )
    conv = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    null = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    price = draw(st.lists(st.floats(1.0, 100.0), min_size=n, max_size=n))
    if sum(conv) == 0:
        conv[0] = 1
    conv_arr = np.asarray(conv, dtype=float)
    return table([" > ".join(p) for p in paths], conv_arr, null, conv_arr * np.asarray(price))


def close(a, b, scale=1.0):
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * max(1.0, scale))


# ------------------------------------------------------------ hand computation


def test_hand_example_rate_games_and_simplified():
    # Sets and rates (v(S) = conversion rate of journeys whose set == S):
    #   {A}:   1 conv, 1 null -> r = 1/2,   value 10 over 2 journeys -> q = 5
    #   {B}:   1 conv, 3 null -> r = 1/4,   value 30 over 4 journeys -> q = 7.5
    #   {A,B}: 3 conv, 1 null -> r = 3/4,   value 60 over 4 journeys -> q = 15
    # Two-player game on {A,B}: phi_A = 1/2 [r(A) + (r(AB) - r(B))] = 1/2 [.5 + .5] = .5
    #                           phi_B = 1/2 [r(B) + (r(AB) - r(A))] = 1/2 [.25 + .25] = .25
    # Journey game: {A,B} shares its 3 conversions as (c + n) * phi = 4 * (.5, .25) = (2, 1);
    #   {A} gives its 1 to A, {B} its 1 to B  ->  A = 3, B = 2 (sum 5).
    #   Value: phi = 1/2 [5 + 7.5], 1/2 [7.5 + 10] = 6.25, 8.75 -> x4 = 25, 35;
    #   plus 10 (A) and 30 (B)  ->  A = 35, B = 65 (sum 100).
    # Global game (K = 2, same game as {A,B}): sum phi = v(N) = .75, scaled by 5 / .75:
    #   A = .5 * 20/3 = 10/3, B = .25 * 20/3 = 5/3; value 6.25, 8.75 * 100/15.
    # Simplified: A = 1 + 3/2 = 2.5, B = 1 + 3/2 = 2.5; value A = 10 + 30, B = 30 + 30.
    enc = encode_paths(table(["A", "B", "A > B"], [1, 1, 3], [1, 3, 1], [10.0, 30.0, 60.0]))
    journey = shapley_rate(enc)
    assert isinstance(journey, ShapleyEstimate) and journey.std_err is None
    close(journey.conversions, [3.0, 2.0])
    close(journey.value, [35.0, 65.0])
    glob = shapley_rate(enc, game="global")
    close(glob.conversions, [10 / 3, 5 / 3])
    close(glob.value, [6.25 * 100 / 15, 8.75 * 100 / 15])
    conv, value = simplified_shapley(enc)
    close(conv, [2.5, 2.5])
    close(value, [40.0, 60.0])


def test_hand_example_three_channel_journey_game():
    # r({a}) = 1/2, r({b}) = 0 (observed, no conversion), r({a,c}) = 1, r({a,b,c}) = 1/2;
    # {b,c}, {c}, {a,b} unobserved -> 0.  Game on J = {a,b,c} (6 orders, weights 1/3, 1/6, 1/3):
    #   phi_a = 1/3 r(a) + 1/6 [r(ab) - r(b)] + 1/6 [r(ac) - r(c)] + 1/3 [r(abc) - r(bc)]
    #         = 1/6 + 0 + 1/6 + 1/6 = 1/2
    #   phi_b = 1/3 r(b) + 1/6 [r(ab) - r(a)] + 1/6 [r(bc) - r(c)] + 1/3 [r(abc) - r(ac)]
    #         = 0 - 1/12 + 0 - 1/6 = -1/4          (negative: b lowers the rate)
    #   phi_c = 1/3 r(c) + 1/6 [r(ac) - r(a)] + 1/6 [r(bc) - r(b)] + 1/3 [r(abc) - r(ab)]
    #         = 0 + 1/12 + 0 + 1/6 = 1/4           (sum 1/2 = r(abc))
    # {a,b,c}: 2 journeys, 1 conversion -> x2: a = 1, b = -1/2, c = 1/2.
    # {a,c}: phi_a = 1/2 [r(a) + r(ac) - r(c)] = 3/4, phi_c = 1/2 [r(c) + r(ac) - r(a)] = 1/4;
    #   1 journey -> a += 3/4, c += 1/4.   {a}: 1 conversion -> a += 1.   {b}: no conversion.
    # Totals: a = 2.75, b = -0.5, c = 0.75 (sum 3 = total conversions).
    enc = encode_paths(
        table(["a", "b", "a > c", "c > b > a"], [1, 0, 1, 1], [1, 2, 0, 1])
    )
    res = shapley_rate(enc)
    close(res.conversions, [2.75, -0.5, 0.75])
    close(res.value, 10 * res.conversions)  # value = 10 per conversion here


def test_hand_example_ordered_shapley():
    # "A > B > A", 2 conversions: |T| = 2, A touched twice -> 2 / (2 * 2) = .5 at positions 1, 3;
    # B once -> 2 / 2 = 1 at position 2.  "B", 1 conversion: 1 to B at position 1.
    enc = encode_paths(table(["A > B > A", "B", "C"], [2, 1, 0], [0, 0, 5]))
    out = ordered_shapley(enc)
    assert list(out.columns) == ["channel", "position", "credit_conversions", "credit_value"]
    assert out[["channel", "position"]].values.tolist() == [["A", 1], ["A", 3], ["B", 1], ["B", 2]]
    close(out["credit_conversions"].to_numpy(), [0.5, 0.5, 1.0, 1.0])
    close(out["credit_value"].to_numpy(), [5.0, 5.0, 10.0, 10.0])


# ------------------------------------------------------- fast == brute force


@HYPO
@given(path_tables())
def test_journey_game_exact_matches_brute_force(tab):
    enc = encode_paths(tab)
    res = shapley_rate(enc)
    expected = brute_journey(enc)
    close(res.conversions, expected[:, 0], enc.conversions.sum())
    close(res.value, expected[:, 1], enc.values.sum())
    # efficiency after scaling: the credits add up to the totals
    close(res.conversions.sum(), enc.conversions.sum())
    close(res.value.sum(), enc.values.sum())


@HYPO
@given(path_tables())
def test_global_game_matches_brute_force_and_is_efficient(tab):
    enc = encode_paths(tab)
    sets = _channel_sets(enc, enc.conversions, enc.nulls, enc.values)
    phi = _global_phi(sets, _rates(sets, "test"))
    v = rate_table(enc)
    expected = brute_shapley(range(enc.n_channels), v)
    close(phi, expected)
    close(phi.sum(axis=0), v[-1])  # efficiency before scaling: sum phi = v(N)
    if v[-1, 0] > 0:
        res = shapley_rate(enc, game="global")
        close(res.conversions, phi[:, 0] * enc.conversions.sum() / v[-1, 0], enc.conversions.sum())
        close(res.conversions.sum(), enc.conversions.sum())
        close(res.value.sum(), enc.values.sum())
    else:
        with pytest.raises(DataValidationError, match="v\\(N\\) = 0"):
            shapley_rate(enc, game="global")


@HYPO
@given(path_tables())
def test_simplified_matches_brute_force_with_subset_sum_v(tab):
    enc = encode_paths(tab)
    conv, value = simplified_shapley(enc)
    expected = brute_shapley(range(enc.n_channels), brute_subset_sum_v(enc))
    close(conv, expected[:, 0], enc.conversions.sum())
    close(value, expected[:, 1], enc.values.sum())
    assert (conv >= 0).all() and (value >= 0).all()
    close(conv.sum(), enc.conversions.sum())
    close(value.sum(), enc.values.sum())


@HYPO
@given(path_tables(max_channels=6))
def test_ordered_totals_equal_simplified(tab):
    enc = encode_paths(tab)
    out = ordered_shapley(enc)
    conv, value = simplified_shapley(enc)
    per_channel = out.groupby("channel")[["credit_conversions", "credit_value"]].sum()
    per_channel = per_channel.reindex(list(enc.channels), fill_value=0.0)
    close(per_channel["credit_conversions"].to_numpy(), conv, enc.conversions.sum())
    close(per_channel["credit_value"].to_numpy(), value, enc.values.sum())
    assert (out["position"] >= 1).all()
    assert (out["position"] <= enc.lengths.max()).all()


def subsets_formula_journey(enc) -> np.ndarray:
    """Journey game by the subset form of the Shapley value (no permutations, no quadrature)."""
    v = rate_table(enc)
    credit = np.zeros((enc.n_channels, 2))
    for mask, (c, n, y) in observed_sets(enc).items():
        members = [k for k in range(enc.n_channels) if mask >> k & 1]
        size = len(members)
        for i in members:
            others = [k for k in members if k != i]
            phi = np.zeros(2)
            for r in range(size):
                weight = math.factorial(r) * math.factorial(size - 1 - r) / math.factorial(size)
                for sub in itertools.combinations(others, r):
                    s = sum(1 << k for k in sub)
                    phi += weight * (v[s | 1 << i] - v[s])
            credit[i] += [(c + n) * phi[0] if c > 0 else 0.0, (c + n) * phi[1] if y > 0 else 0.0]
    return credit


def test_journey_quadrature_exact_on_long_journeys():
    # Journeys touching up to all 12 channels (quadrature of degree 11, 6 nodes).
    rng = np.random.default_rng(3)
    names = [f"c{k:02d}" for k in range(12)]
    paths = [" > ".join(rng.permutation(names)[: rng.integers(1, 13)]) for _ in range(60)]
    paths.append(" > ".join(names))
    conv = rng.integers(0, 3, len(paths))
    conv[-1] = 2
    enc = encode_paths(table(paths, conv, rng.integers(0, 5, len(paths))))
    res = shapley_rate(enc)
    expected = subsets_formula_journey(enc)
    close(res.conversions, expected[:, 0], enc.conversions.sum())
    close(res.value, expected[:, 1], enc.values.sum())


# ---------------------------------------------------------------- axioms


def with_twin(tab: pd.DataFrame, channel: str, twin: str) -> pd.DataFrame:
    """Every touch of ``channel`` is followed by a touch of ``twin`` (they always co-occur)."""
    out = tab.copy()
    out["path"] = [
        " > ".join(c for ch in p.split(" > ") for c in ((ch, twin) if ch == channel else (ch,)))
        for p in tab["path"]
    ]
    return out


@HYPO
@given(path_tables(max_channels=6), st.data())
def test_symmetry_channels_always_together_get_equal_credit(tab, data):
    channel = data.draw(st.sampled_from(sorted({c for p in tab["path"] for c in p.split(" > ")})))
    enc = encode_paths(with_twin(tab, channel, "zz_twin"))
    i, j = enc.channels.index(channel), enc.channels.index("zz_twin")
    scale = enc.conversions.sum() + enc.values.sum()
    for credits in (
        simplified_shapley(enc),
        shapley_rate(enc)[:2],
    ):
        close(credits[0][i], credits[0][j], scale)
        close(credits[1][i], credits[1][j], scale)
    sets = _channel_sets(enc, enc.conversions, enc.nulls, enc.values)
    phi = _global_phi(sets, _rates(sets, "test"))
    close(phi[i], phi[j])


def test_null_player_per_game():
    # "x" only appears in journeys without conversions.
    enc = encode_paths(table(["a", "a > b", "x", "x > a", "b"], [2, 1, 0, 0, 1], [1, 1, 3, 2, 0]))
    x = enc.channels.index("x")
    # Simplified: v(S + x) = v(S) for every S (x is in no converting journey) -> exactly 0.
    assert simplified_shapley(enc)[0][x] == 0.0
    assert "x" not in set(ordered_shapley(enc)["channel"])
    # Journey game: x plays in no converting journey's game -> exactly 0.
    assert shapley_rate(enc).conversions[x] == 0.0
    # Global game with v(S) = rate of set == S: x is NOT a null player; joining any
    # converting coalition T sends it to an unobserved/zero-rate set, so
    # phi_x = -sum_T r(T) |T|! (K - |T| - 1)! / K! < 0.
    sets = _channel_sets(enc, enc.conversions, enc.nulls, enc.values)
    phi = _global_phi(sets, _rates(sets, "test"))
    K = enc.n_channels
    expected = -sum(
        (c / (c + n)) * math.factorial(t) * math.factorial(K - t - 1) / math.factorial(K)
        for mask, (c, n, _) in observed_sets(enc).items()
        if not mask >> x & 1
        for t in [bin(mask).count("1")]
    )
    close(phi[x, 0], expected)
    assert phi[x, 0] < 0


def test_one_channel_world_gets_everything():
    enc = encode_paths(table(["solo", "solo > solo"], [3, 1], [2, 4]))
    results = (simplified_shapley(enc), shapley_rate(enc)[:2], shapley_rate(enc, game="global")[:2])
    for credits in results:
        close(credits[0], [4.0])
        close(credits[1], [40.0])
    assert ordered_shapley(enc)["credit_conversions"].sum() == pytest.approx(4.0)


@HYPO
@given(path_tables(max_channels=5))
def test_renaming_channels_permutes_credits(tab):
    enc = encode_paths(tab)
    rename = {c: "Z" + c[::-1] for p in tab["path"] for c in p.split(" > ")}
    renamed = encode_paths(
        tab.assign(path=[" > ".join(rename[c] for c in p.split(" > ")) for p in tab["path"]])
    )
    order = [renamed.channels.index(rename[c]) for c in enc.channels]
    pairs = (
        (simplified_shapley(enc), simplified_shapley(renamed)),
        (shapley_rate(enc)[:2], shapley_rate(renamed)[:2]),
    )
    for a, b in pairs:
        close(a[0], b[0][order], enc.conversions.sum())
        close(a[1], b[1][order], enc.values.sum())


# ------------------------------------------------------------- Monte Carlo


def random_table(n_channels: int, n_paths: int, seed: int, max_len: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.array([f"k{c:03d}" for c in range(n_channels)], dtype=object)
    lengths = rng.integers(1, max_len + 1, n_paths)
    paths = [" > ".join(rng.choice(names, size=n)) for n in lengths]
    conv = rng.integers(0, 4, n_paths)
    return table(paths, conv, rng.integers(0, 6, n_paths), conv * rng.uniform(5, 50, n_paths))


def test_monte_carlo_within_four_standard_errors_of_exact():
    enc = encode_paths(random_table(10, 120, seed=11))
    exact = shapley_rate(enc)
    mc = shapley_rate(enc, max_exact_channels=5, n_permutations=3000, random_state=2024)
    assert mc.std_err is not None and mc.std_err.shape == (2, enc.n_channels)
    pairs = ((mc.conversions, exact.conversions), (mc.value, exact.value))
    for g, (est, truth) in enumerate(pairs):
        assert (np.abs(est - truth) <= 4 * mc.std_err[g] + 1e-9 * np.abs(truth).sum()).all()
    # every sampled permutation's credits telescope to the totals, so the mean does too
    close(mc.conversions.sum(), enc.conversions.sum())
    close(mc.value.sum(), enc.values.sum())


def test_monte_carlo_is_deterministic_for_a_seed():
    enc = encode_paths(random_table(9, 80, seed=5))
    a = shapley_rate(enc, max_exact_channels=4, n_permutations=200, random_state=7)
    b = shapley_rate(enc, max_exact_channels=4, n_permutations=200, random_state=7)
    c = shapley_rate(enc, max_exact_channels=4, n_permutations=200, random_state=8)
    np.testing.assert_array_equal(a.conversions, b.conversions)
    np.testing.assert_array_equal(a.std_err, b.std_err)
    assert not np.array_equal(a.conversions, c.conversions)


def test_monte_carlo_above_64_channels_uses_hashed_sets():
    # 70 channels: set keys are 64-bit hash sums, not bitmasks; the journey game only
    # needs subsets of each journey, so the brute force per journey still applies.
    tab = random_table(70, 150, seed=3, max_len=4)
    enc = encode_paths(tab)
    assert enc.n_channels > 64
    sets = _channel_sets(enc, enc.conversions, enc.nulls, enc.values)
    assert not sets.exact
    expected_sets = {frozenset(enc.path(p)) for p in range(enc.n_paths)}
    got_sets = {
        frozenset(enc.channels[c] for c in sets.members[sets.offsets[j] : sets.offsets[j + 1]])
        for j in range(len(sets.keys))
    }
    assert got_sets == expected_sets
    mc = shapley_rate(enc, n_permutations=2000, random_state=1)
    expected = brute_journey_by_names(enc)
    assert (np.abs(mc.conversions - expected[:, 0]) <= 4 * mc.std_err[0] + 1e-9).all()
    close(mc.conversions.sum(), enc.conversions.sum())


def brute_journey_by_names(enc) -> np.ndarray:
    """Journey game by permutations, sets keyed by frozensets (any number of channels)."""
    groups: dict[frozenset, list[float]] = {}
    for p in range(enc.n_paths):
        acc = groups.setdefault(frozenset(enc.path(p)), [0.0, 0.0, 0.0])
        acc[0] += enc.conversions[p]
        acc[1] += enc.nulls[p]
        acc[2] += enc.values[p]

    def rate(s):
        c, n, y = groups.get(s, (0.0, 0.0, 0.0))
        return np.array([c / (c + n), y / (c + n)]) if c + n > 0 else np.zeros(2)

    credit = np.zeros((enc.n_channels, 2))
    for members, (c, n, y) in groups.items():
        orders = list(itertools.permutations(sorted(members)))
        for order in orders:
            before: frozenset = frozenset()
            for ch in order:
                gain = (rate(before | {ch}) - rate(before)) * (c + n) / len(orders)
                credit[enc.channels.index(ch)] += [gain[0] * (c > 0), gain[1] * (y > 0)]
                before = before | {ch}
    return credit


# ------------------------------------------------- weights and validation


@HYPO
@given(path_tables(max_channels=5), st.data())
def test_weight_overrides_equal_reencoding(tab, data):
    enc = encode_paths(tab)
    factor = np.asarray(
        data.draw(st.lists(st.floats(0.0, 3.0), min_size=enc.n_paths, max_size=enc.n_paths))
    )
    conv, null, val = enc.conversions * factor, enc.nulls * factor, enc.values * factor
    reweighted = enc.with_weights(conv, null, val)
    kwargs = {"conversions": conv, "nulls": null, "values": val}
    for fn in (simplified_shapley, lambda e, **kw: shapley_rate(e, **kw)[:2]):
        a, b = fn(enc, **kwargs), fn(reweighted)
        close(a[0], b[0], conv.sum())
        close(a[1], b[1], val.sum())
    pd.testing.assert_frame_equal(ordered_shapley(enc, **kwargs), ordered_shapley(reweighted))


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"conversions": np.array([1.0])}, r"conversions has shape \(1,\), expected \(2,\)"),
        ({"nulls": np.array([1.0, -1.0])}, r"nulls\[1\] = -1.0; weights must be finite and >= 0"),
        ({"values": np.array([np.nan, 1.0])}, r"values\[0\] = nan"),
    ],
)
@pytest.mark.parametrize("fn", [simplified_shapley, shapley_rate, ordered_shapley])
def test_bad_weight_overrides_are_refused(fn, override, match):
    enc = encode_paths(table(["a", "a > b"], [1, 1], [1, 1]))
    with pytest.raises(DataValidationError, match=match):
        fn(enc, **override)


def test_parameter_errors():
    enc = encode_paths(table(["a", "a > b"], [1, 1], [1, 1]))
    with pytest.raises(ValueError, match="game='local' is not one of"):
        shapley_rate(enc, game="local")
    with pytest.raises(ValueError, match="n_permutations=1; need an integer >= 2"):
        shapley_rate(enc, n_permutations=1)
    with pytest.raises(ValueError, match=r"max_exact_channels=40; need an integer in \[1, 26\]"):
        shapley_rate(enc, max_exact_channels=40)


def test_global_game_refuses_to_scale_when_no_journey_touched_every_channel():
    enc = encode_paths(table(["a", "b", "c > a"], [1, 2, 1], [1, 1, 1]))
    match = "no journey touched all 3 channels, so v\\(N\\) = 0"
    with pytest.raises(DataValidationError, match=match):
        shapley_rate(enc, game="global")


def test_value_without_journeys_is_refused():
    enc = encode_paths(table(["a", "b"], [1, 0], [1, 0], [5.0, 7.0]))
    with pytest.raises(DataValidationError, match="carries conversion value 7.0 but no journeys"):
        shapley_rate(enc)


def test_negative_credit_is_reported_not_clipped(caplog):
    enc = encode_paths(table(["a", "b", "a > c", "c > b > a"], [1, 0, 1, 1], [1, 2, 0, 1]))
    with caplog.at_level("INFO", logger="attribution._shapley"):
        res = shapley_rate(enc)
    assert res.conversions.min() < 0
    assert "1 of 3 channels have negative conversion credit" in caplog.text
