"""Tests of features.journeys: definitions, accounting, and a brute-force reference.

The reference (:func:`reference_paths`) re-implements the module docstring's
definitions with plain Python loops over accounts, events and touches; the
fast builder must give the same path table on small random inputs
(STYLE.md rule 8).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import _journeys_core as core
from features.errors import ConfigError, DataValidationError, SchemaError
from features.journeys import (
    JourneyConfig,
    JourneyInvariantError,
    build_journeys,
    path_table_from_journeys,
)

BASE = pd.Timestamp("2024-01-01", tz="UTC")
DAY = pd.Timedelta(days=1)


# --------------------------------------------------------------------------- helpers


def _utc(values: list) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("ns")


def make_touchpoints(rows: list[tuple]) -> pd.DataFrame:
    """rows: (touchpoint_id, account_id, day offset (float), channel[, contact_id])."""
    return pd.DataFrame(
        {
            "touchpoint_id": [r[0] for r in rows],
            "account_id": [r[1] for r in rows],
            "contact_id": [r[4] if len(r) > 4 else None for r in rows],
            "timestamp": _utc([BASE + r[2] * DAY for r in rows]),
            "channel": [r[3] for r in rows],
            "signal": ["touch"] * len(rows),
            "campaign_id": ["cmp"] * len(rows),
            "asset_id": ["ast"] * len(rows),
            "cost": [1.0] * len(rows),
        }
    )


def make_opportunities(rows: list[tuple]) -> pd.DataFrame:
    """rows: (opportunity_id, account_id, created day, amount[, is_won, closed day])."""
    closed = [r[5] if len(r) > 5 else None for r in rows]
    return pd.DataFrame(
        {
            "opportunity_id": [r[0] for r in rows],
            "account_id": [r[1] for r in rows],
            "created_at": _utc([BASE + r[2] * DAY for r in rows]),
            "closed_at": _utc([None if c is None else BASE + c * DAY for c in closed]),
            "stage": ["qualification"] * len(rows),
            "is_won": [bool(r[4]) if len(r) > 4 else False for r in rows],
            "amount": pd.Series([r[3] for r in rows], dtype="float64"),
        }
    )


def canonical(paths: pd.DataFrame, keys: tuple[str, ...] = ()) -> dict:
    return {
        tuple(row[k] for k in keys) + (row["path"],): (
            int(row["total_conversions"]),
            int(row["total_null"]),
            round(float(row["total_conversion_value"]), 6),
        )
        for _, row in paths.iterrows()
    }


def reference_paths(tp: pd.DataFrame, opp: pd.DataFrame, cfg: JourneyConfig) -> dict:
    """Brute-force path table of the module docstring's definitions."""
    touches = defaultdict(list)
    for r in tp.itertuples(index=False):
        touches[r.account_id].append((r.timestamp, r.touchpoint_id, r.channel))
    for v in touches.values():
        v.sort(key=lambda x: (x[0], x[1]))
    events = defaultdict(list)
    for r in opp.itertuples(index=False):
        if cfg.conversion == "opportunity_created":
            when = r.created_at
        else:
            if not r.is_won or pd.isna(r.closed_at):
                continue
            when = r.closed_at
        value = 0.0 if pd.isna(r.amount) else float(r.amount)
        events[r.account_id].append((when, r.opportunity_id, value))
    for v in events.values():
        v.sort(key=lambda x: (x[0], x[1]))
    all_times = [t for v in touches.values() for t, _, _ in v] + [
        e for v in events.values() for e, _, _ in v
    ]
    end = cfg.observation_end if cfg.observation_end is not None else max(all_times)
    lb = None if cfg.lookback_days is None else pd.Timedelta(days=cfg.lookback_days)
    groups = cfg.channel_groups or {}

    def window(acct, after, until):
        return [
            groups.get(ch, ch)
            for t, _, ch in touches[acct]
            if (after is None or t > after) and t <= until and (lb is None or t >= until - lb)
        ]

    def shape(seq):
        if cfg.collapse_repeats:
            seq = [c for i, c in enumerate(seq) if i == 0 or c != seq[i - 1]]
        if cfg.max_path_length is not None:
            seq = seq[-cfg.max_path_length :]
        return seq

    table: dict = defaultdict(lambda: [0, 0, 0.0])
    for acct in set(touches) | set(events):
        prev = None
        for when, _, value in events[acct]:
            if when > end:
                break
            seq = window(acct, prev, when)
            prev = when
            if seq:
                row = table[(" > ".join(shape(seq)),)]
                row[0] += 1
                row[2] += value
        seq = window(acct, prev, end)
        if seq:
            table[(" > ".join(shape(seq)),)][1] += 1
    return {k: (v[0], v[1], round(v[2], 6)) for k, v in table.items()}


# --------------------------------------------------------------------------- strategies

CHANNELS = ["ads", "email", "web", "event"]


@st.composite
def datasets(draw):
    n_accounts = draw(st.integers(1, 4))
    accounts = [f"acc{i}" for i in range(n_accounts)]
    n_touch = draw(st.integers(1, 40))
    ids = draw(st.permutations(range(n_touch)))
    touch_rows = [
        (
            f"tp{ids[i]}",
            draw(st.sampled_from(accounts)),
            draw(st.integers(0, 60)) + draw(st.sampled_from([0.0, 0.5])),
            draw(st.sampled_from(CHANNELS)),
        )
        for i in range(n_touch)
    ]
    n_opp = draw(st.integers(0, 6))
    opp_rows = []
    for i in range(n_opp):
        created = draw(st.integers(0, 70)) + draw(st.sampled_from([0.0, 0.5]))
        closed = draw(st.one_of(st.none(), st.integers(0, 30).map(lambda d: created + d)))
        opp_rows.append(
            (
                f"op{i}",
                draw(st.sampled_from(accounts + ["acc_without_touches"])),
                created,
                draw(st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False))),
                draw(st.booleans()),
                closed,
            )
        )
    config = JourneyConfig(
        conversion=draw(st.sampled_from(["opportunity_created", "closed_won"])),
        lookback_days=draw(st.sampled_from([None, 1, 7, 20.5, 365])),
        observation_end=draw(
            st.one_of(st.none(), st.integers(20, 80).map(lambda d: BASE + d * DAY))
        ),
        channel_groups=draw(st.sampled_from([None, {"ads": "paid", "event": "paid"}])),
        collapse_repeats=draw(st.booleans()),
        max_path_length=draw(st.sampled_from([None, 1, 2, 3])),
    )
    return make_touchpoints(touch_rows), make_opportunities(opp_rows), config


SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
REFERENCE_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --------------------------------------------------------------------------- properties


@REFERENCE_SETTINGS
@given(datasets())
def test_path_table_equals_brute_force_reference(data):
    tp, opp, cfg = data
    j = build_journeys(tp, opp, config=cfg)
    assert canonical(j.paths) == reference_paths(tp, opp, cfg)


@SETTINGS
@given(datasets())
def test_accounting_identities(data):
    tp, opp, cfg = data
    j = build_journeys(tp, opp, config=cfg)
    s = j.stats
    assert s.touches_in == len(tp)
    assert s.touches_in == (
        s.touches_in_journeys
        + s.touches_collapsed
        + s.touches_dropped_by_max_length
        + s.touches_outside_window
    )
    assert int((j.paths["total_conversions"] + j.paths["total_null"]).sum()) == s.journeys
    assert s.journeys == s.converting + s.non_converting == len(j.journeys)
    assert int(j.paths["total_conversions"].sum()) == s.converting
    assert s.converting + s.conversions_without_touches == s.conversions
    assert len(j.direct_conversions) == s.conversions_without_touches
    assert len(j.touches) == s.touches_in_journeys
    assert j.paths["path"].is_unique
    if not cfg.collapse_repeats:
        assert s.touches_collapsed == 0
    if cfg.max_path_length is None:
        assert s.touches_dropped_by_max_length == 0


@SETTINGS
@given(datasets())
def test_each_touch_in_at_most_one_journey_and_in_time_order(data):
    tp, opp, cfg = data
    cfg = JourneyConfig(
        conversion=cfg.conversion,
        lookback_days=cfg.lookback_days,
        observation_end=cfg.observation_end,
    )  # no collapse / cut: every touch in a window is a row
    j = build_journeys(tp, opp, config=cfg)
    t = j.touches
    assert t["touchpoint_id"].is_unique
    assert len(t) + j.stats.touches_outside_window == len(tp)
    for _, g in t.groupby("journey_id"):
        assert g["touch_order"].tolist() == list(range(1, len(g) + 1))
        keys = list(zip(g["timestamp"], g["touchpoint_id"]))
        assert keys == sorted(keys)
        assert g["account_id"].nunique() == 1
    # the path is the channels sorted by (timestamp, touchpoint_id)
    merged = t.merge(j.journeys[["journey_id", "path"]], on="journey_id")
    joined = merged.groupby("journey_id")["channel"].agg(" > ".join)
    assert (joined == j.journeys.set_index("journey_id")["path"]).all()


@SETTINGS
@given(datasets())
def test_converting_journeys_stay_inside_their_window(data):
    tp, opp, cfg = data
    j = build_journeys(tp, opp, config=cfg)
    t = j.touches.merge(
        j.journeys[["journey_id", "converted_at"]], on="journey_id", how="left"
    )
    conv = t[t["converted"]]
    assert (conv["timestamp"] <= conv["converted_at"]).all()
    if cfg.lookback_days is not None:
        lb = pd.Timedelta(days=cfg.lookback_days)
        assert (conv["timestamp"] >= conv["converted_at"] - lb).all()
        non = t[~t["converted"]]
        assert (non["timestamp"] >= j.stats.observation_end - lb).all()
    assert (t["timestamp"] <= j.stats.observation_end).all()
    assert np.allclose(
        conv["days_to_conversion"],
        (conv["converted_at"] - conv["timestamp"]) / pd.Timedelta(days=1),
    )
    assert t.loc[~t["converted"], "days_to_conversion"].isna().all()
    # no touch of a converting journey precedes the account's previous event
    jt = j.journeys
    for acct, g in jt[jt["converted"]].groupby("account_id"):
        g = g.sort_values("converted_at")
        prev = g["converted_at"].shift(1)
        ok = prev.isna() | (g["first_touch_at"] > prev)
        assert ok.all()


@SETTINGS
@given(datasets())
def test_conversion_value_is_the_opportunity_amount(data):
    tp, opp, cfg = data
    j = build_journeys(tp, opp, config=cfg)
    amount = opp.set_index("opportunity_id")["amount"].fillna(0.0)
    jt = j.journeys
    conv = jt[jt["converted"]]
    assert np.allclose(conv["conversion_value"], amount.loc[conv["opportunity_id"]].to_numpy())
    assert (jt.loc[~jt["converted"], "conversion_value"] == 0).all()
    assert jt.loc[~jt["converted"], "opportunity_id"].isna().all()
    assert math.isclose(
        j.paths["total_conversion_value"].sum(), conv["conversion_value"].sum(), abs_tol=1e-6
    )


@SETTINGS
@given(datasets(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(data, rnd):
    tp, opp, cfg = data
    perm = list(range(len(tp)))
    rnd.shuffle(perm)
    shuffled = tp.iloc[perm].reset_index(drop=True)
    a = build_journeys(tp, opp, config=cfg).paths
    b = build_journeys(shuffled, opp.iloc[::-1], config=cfg).paths
    pd.testing.assert_frame_equal(a, b)


@SETTINGS
@given(datasets(), st.integers(1, 4))
def test_max_path_length_keeps_the_last_n_touches(data, n):
    tp, opp, cfg = data
    full = build_journeys(tp, opp, config=JourneyConfig(conversion=cfg.conversion)).journeys
    cut = build_journeys(
        tp, opp, config=JourneyConfig(conversion=cfg.conversion, max_path_length=n)
    ).journeys
    assert len(full) == len(cut)
    for p_full, p_cut in zip(full["path"], cut["path"]):
        assert p_cut.split(" > ") == p_full.split(" > ")[-n:]


@SETTINGS
@given(datasets())
def test_collapse_removes_exactly_the_consecutive_repeats(data):
    tp, opp, cfg = data
    base = JourneyConfig(conversion=cfg.conversion, channel_groups=cfg.channel_groups)
    full = build_journeys(tp, opp, config=base).journeys
    col = build_journeys(
        tp, opp, config=JourneyConfig(**{**base.__dict__, "collapse_repeats": True})
    ).journeys
    for p_full, p_col in zip(full["path"], col["path"]):
        seq = p_full.split(" > ")
        assert p_col.split(" > ") == [c for i, c in enumerate(seq) if i == 0 or c != seq[i - 1]]


# --------------------------------------------------------------------------- examples


@pytest.fixture
def small():
    tp = make_touchpoints(
        [
            ("t1", "a", 0, "email", "c1"),
            ("t2", "a", 10, "ads", None),
            ("t3", "a", 10, "ads", "c2"),
            ("t4", "a", 30, "web", None),
            ("t5", "b", 5, "web", None),
            ("t6", "b", 6, "event", None),
            ("t0", "b", 6, "email", None),
            ("t7", "c", -400, "web", None),
        ]
    )
    opp = make_opportunities(
        [
            ("o1", "a", 20, 100.0, True, 40),
            ("o2", "d", 3, 7.0, False, None),
            ("o3", "a", 20, 50.0, False, None),
        ]
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "segment": ["enterprise", "smb", "smb", "smb"],
            "industry": ["x"] * 4,
            "region": ["emea", "emea", "amer", "amer"],
            "business_unit": ["bu1"] * 4,
            "abm_tier": ["one_to_one", "none", "none", "none"],
            "annual_revenue": [1.0] * 4,
        }
    )
    contacts = pd.DataFrame(
        {
            "contact_id": ["c1", "c2"],
            "account_id": ["a", "a"],
            "buying_role": ["champion", "economic_buyer"],
            "seniority": ["vp", "c_level"],
            "department": ["it", "finance"],
        }
    )
    return {"touchpoints": tp, "opportunities": opp, "accounts": accounts, "contacts": contacts}


def test_small_example_by_hand(small):
    j = build_journeys(small)
    # o1 (day 20) takes t1..t3; o3 at the same instant has an empty window;
    # a's tail is t4; b's tail: t5, then t0 before t6 (tie broken by id); c's
    # touch is older than the lookback; o2's account has no touch.
    assert canonical(j.paths) == {
        ("email > ads > ads",): (1, 0, 100.0),
        ("web",): (0, 1, 0.0),
        ("web > email > event",): (0, 1, 0.0),
    }
    s = j.stats
    assert (s.touches_outside_window, s.conversions_without_touches, s.journeys) == (1, 2, 3)
    assert sorted(j.direct_conversions["opportunity_id"]) == ["o2", "o3"]
    assert s.observation_end == BASE + 30 * DAY
    t = j.touches
    assert t.loc[t["touchpoint_id"] == "t1", "buying_role"].item() == "champion"
    assert t.loc[t["touchpoint_id"] == "t1", "days_to_conversion"].item() == 20.0
    assert t.loc[t["touchpoint_id"] == "t3", "buying_role"].item() == "economic_buyer"
    assert t.loc[t["touchpoint_id"] == "t2", "buying_role"].isna().item()
    assert list(t.columns) == [
        "journey_id", "account_id", "opportunity_id", "touch_order", "touchpoint_id",
        "timestamp", "channel", "signal", "contact_id", "buying_role",
        "days_to_conversion", "converted", "conversion_value",
    ]
    assert list(j.paths.columns) == [
        "path", "total_conversions", "total_null", "total_conversion_value"
    ]


def test_closed_won_conversion(small):
    j = build_journeys(small, config=JourneyConfig(conversion="closed_won"))
    # o1 closes on day 40 > data end (day 30 touches, day 40 event): end = day 40
    assert canonical(j.paths) == {
        ("email > ads > ads > web",): (1, 0, 100.0),
        ("web > email > event",): (0, 1, 0.0),
    }
    assert j.stats.conversions == 1


def test_events_after_observation_end_are_ignored(small):
    cfg = JourneyConfig(conversion="closed_won", observation_end="2024-01-31")
    j = build_journeys(small, config=cfg)
    assert j.stats.conversions_after_observation_end == 1
    assert j.stats.conversions == 0
    assert canonical(j.paths)[("email > ads > ads > web",)] == (0, 1, 0.0)


def test_channel_groups_keep_or_refuse_unmapped(small):
    cfg = JourneyConfig(channel_groups={"ads": "paid", "event": "paid"})
    j = build_journeys(small, config=cfg)
    assert set(j.paths["path"]) == {"email > paid > paid", "web", "web > email > paid"}
    assert j.stats.unmapped_channels == ("email", "web")
    assert "original_channel" in j.touches.columns
    cfg = JourneyConfig(channel_groups={"ads": "paid"}, unmapped_channels="error")
    with pytest.raises(ConfigError, match="'email', 'event', 'web' are not in channel_groups"):
        build_journeys(small, config=cfg)


def test_collapse_and_max_length_examples(small):
    cfg = JourneyConfig(
        channel_groups={"ads": "paid", "event": "paid", "email": "paid"},
        collapse_repeats=True,
    )
    j = build_journeys(small, config=cfg)
    assert canonical(j.paths)[("paid",)] == (1, 0, 100.0)
    assert canonical(j.paths)[("web > paid",)] == (0, 1, 0.0)
    assert j.stats.touches_collapsed == 3
    j = build_journeys(small, config=JourneyConfig(max_path_length=1))
    assert set(j.paths["path"]) == {"ads", "web", "event"}
    assert j.stats.touches_dropped_by_max_length == 4


def test_breakdown_columns(small):
    j = build_journeys(small, config=JourneyConfig(breakdowns=("segment", "region")))
    p = j.paths
    assert list(p.columns[:3]) == ["segment", "region", "path"]
    assert canonical(p, ("segment", "region")) == {
        ("enterprise", "emea", "email > ads > ads"): (1, 0, 100.0),
        ("enterprise", "emea", "web"): (0, 1, 0.0),
        ("smb", "emea", "web > email > event"): (0, 1, 0.0),
    }
    again = path_table_from_journeys(j, breakdowns=["abm_tier"])
    assert canonical(again, ("abm_tier",)) == {
        ("one_to_one", "email > ads > ads"): (1, 0, 100.0),
        ("one_to_one", "web"): (0, 1, 0.0),
        ("none", "web > email > event"): (0, 1, 0.0),
    }
    plain = path_table_from_journeys(j)
    assert canonical(plain) == canonical(build_journeys(small).paths)


@SETTINGS
@given(datasets(), st.lists(st.sampled_from(["s1", "s2"]), min_size=4, max_size=4))
def test_breakdown_sums_to_the_plain_table(data, segments):
    tp, opp, cfg = data
    accounts = pd.DataFrame({"account_id": [f"acc{i}" for i in range(4)], "segment": segments})
    cfg_b = JourneyConfig(**{**cfg.__dict__, "breakdowns": ("segment",)})
    by = build_journeys(tp, opp, accounts, config=cfg_b).paths
    plain = build_journeys(tp, opp, config=cfg).paths
    summed = by.groupby("path", as_index=False)[
        ["total_conversions", "total_null", "total_conversion_value"]
    ].sum()
    assert canonical(summed) == canonical(plain)
    for seg, g in by.groupby("segment"):
        keep = accounts.loc[accounts["segment"] == seg, "account_id"]
        sub = build_journeys(
            tp[tp["account_id"].isin(keep)], opp[opp["account_id"].isin(keep)], config=cfg
        ) if tp["account_id"].isin(keep).any() else None
        assert sub is not None
        if cfg.observation_end is None:
            continue  # the default end depends on the data kept
        assert canonical(g.drop(columns="segment")) == canonical(sub.paths)


# --------------------------------------------------------------------------- refusals


def test_refuses_naive_timestamps(small):
    tp = small["touchpoints"].assign(timestamp=lambda d: d["timestamp"].dt.tz_localize(None))
    with pytest.raises(SchemaError, match=r"touchpoints.timestamp is a naive datetime"):
        build_journeys(tp, small["opportunities"])


def test_refuses_missing_columns_and_empty_tables(small):
    with pytest.raises(SchemaError, match=r"touchpoints has no column 'channel'"):
        build_journeys(small["touchpoints"].drop(columns="channel"), small["opportunities"])
    with pytest.raises(DataValidationError, match="touchpoints table is empty"):
        build_journeys(small["touchpoints"].iloc[:0], small["opportunities"])
    with pytest.raises(SchemaError, match="need the accounts table"):
        build_journeys(
            small["touchpoints"], small["opportunities"],
            config=JourneyConfig(breakdowns=("segment",)),
        )
    with pytest.raises(SchemaError, match="accounts has no column 'tier'"):
        build_journeys(small, config=JourneyConfig(breakdowns=("tier",)))


def test_refuses_separator_in_channel_names(small):
    tp = small["touchpoints"].assign(channel="a>b")
    with pytest.raises(DataValidationError, match="contain '>'"):
        build_journeys(tp, small["opportunities"])


def test_refuses_missing_values(small):
    tp = small["touchpoints"].copy()
    tp.loc[2, "channel"] = None
    with pytest.raises(DataValidationError, match="touchpoints.channel row 2 is empty"):
        build_journeys(tp, small["opportunities"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"conversion": "won"}, "conversion='won'"),
        ({"lookback_days": 0}, "lookback_days=0"),
        ({"lookback_days": True}, "lookback_days=True"),
        ({"max_path_length": 0}, "max_path_length=0"),
        ({"observation_end": "not a date"}, "is not a date"),
        ({"channel_groups": {"a": "x > y"}}, "contains '>'"),
        ({"unmapped_channels": "drop"}, "unmapped_channels='drop'"),
        ({"breakdowns": ("segment", "segment")}, "distinct"),
    ],
)
def test_config_refuses_bad_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        JourneyConfig(**kwargs)


def test_config_from_dict_refuses_unknown_keys():
    assert JourneyConfig.from_dict({"lookback_days": 90}).lookback_days == 90
    with pytest.raises(ConfigError, match="unknown key"):
        JourneyConfig.from_dict({"lookback": 90})
    assert JourneyConfig(breakdowns="segment").breakdowns == ("segment",)
    assert JourneyConfig(observation_end="2024-05-01").observation_end == pd.Timestamp(
        "2024-05-01", tz="UTC"
    )


# --------------------------------------------------------------------------- engine internals


def test_sort_keys_all_strategies_match_stable_argsort():
    rng = np.random.default_rng(3)
    for bits_key, n in [(12, 5000), (40, 20000), (62, 3000), (63, 3000)]:
        keys = rng.integers(0, 2**bits_key, n)
        keys[::5] = keys[0]
        ref = np.argsort(keys, kind="stable")
        order, sorted_keys = core._sort_keys(keys.copy(), bits_key)
        assert np.array_equal(order, ref)
        assert np.array_equal(sorted_keys, keys[ref])


def test_time_coordinates_rank_mode_preserves_order():
    rng = np.random.default_rng(4)
    t = rng.integers(0, 10**18, 1000)  # ns over ~30 years: does not pack with 40 account bits
    coder, coords = core._time_coordinates(t, bits_acct=40)
    assert coder.uniq is not None
    assert np.array_equal(np.argsort(coords, kind="stable"), np.argsort(t, kind="stable"))
    x = np.array([t[0], t[0] - 1, t[0] + 1])
    assert (coder.upper(x)[0] == coords[0]) and (coder.lower(x)[0] == coords[0])
    assert coder.upper(x)[1] < coords[0] < coder.lower(x)[2]


def test_time_coordinates_use_the_coarsest_step():
    t = np.array([0, 3, 7], dtype=np.int64) * 10**9 + 1_700_000_000 * 10**9
    coder, coords = core._time_coordinates(t, bits_acct=10)
    assert coder.step == 10**9 and coords.tolist() == [0, 3, 7]


def test_hash_collisions_are_detected_and_resolved(monkeypatch, small):
    real = core._hash_paths
    calls = []

    def colliding(codes, pos, starts, n_codes, salt):
        calls.append(salt)
        if salt == 0:
            return np.zeros(len(starts), dtype=np.uint64)  # every path collides
        return real(codes, pos, starts, n_codes, salt)

    monkeypatch.setattr(core, "_hash_paths", colliding)
    j = build_journeys(small)
    assert calls == [0, 1]
    assert len(j.paths) == 3


def test_invariant_violation_is_reported_as_a_bug(monkeypatch, small):
    real = core.run_engine

    def broken(**kwargs):
        res = real(**kwargs)
        return core.EngineResult(**{**res.__dict__, "touches_collapsed": 1})

    monkeypatch.setattr("features.journeys.run_engine", broken)
    with pytest.raises(JourneyInvariantError, match="a bug"):
        build_journeys(small)


def test_microsecond_timestamps_and_other_time_zones(small):
    tp = small["touchpoints"].assign(
        timestamp=lambda d: d["timestamp"].dt.as_unit("us").dt.tz_convert("Europe/Paris")
    )
    a = build_journeys(tp, small["opportunities"]).paths
    pd.testing.assert_frame_equal(a, build_journeys(small).paths)


def test_synthetic_generator_tables_if_available():
    synthetic = pytest.importorskip("features.synthetic")
    if not hasattr(synthetic, "generate_dataset"):
        pytest.skip("features.synthetic.generate_dataset not written yet")
    data = synthetic.generate_dataset(30, seed=1)
    j = build_journeys(data, config=JourneyConfig(breakdowns=("segment",)))
    assert int((j.paths["total_conversions"] + j.paths["total_null"]).sum()) == j.stats.journeys
    assert len(j.touches) == j.stats.touches_in_journeys
