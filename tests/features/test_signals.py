"""Tests of features.signals: account signal features as of a date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.contracts import BUYING_ROLES, SENIORITIES
from features.errors import ConfigError, DataValidationError, SchemaError
from features.signals import (
    DEFAULT_ROLE_IMPORTANCE,
    SignalConfig,
    build_signal_features,
    build_signal_panel,
    signal_feature_names,
)

AS_OF = pd.Timestamp("2024-06-30", tz="UTC")
DAY = pd.Timedelta(days=1)
SIGNALS = ("open", "click", "visit")
CHANNELS = ("email", "web")
DEPARTMENTS = ("finance", "it", "marketing")


# ---------------------------------------------------------------------------
# small frames of the contract's shape


def make_accounts(ids) -> pd.DataFrame:
    ids = list(ids)
    return pd.DataFrame(
        {
            "account_id": pd.Series(ids, dtype="str"),
            "segment": "enterprise",
            "industry": "software",
            "region": "emea",
            "business_unit": "bu1",
            "abm_tier": "one_to_few",
            "annual_revenue": 1e6,
        }
    )


def make_contacts(rows) -> pd.DataFrame:
    """rows: (contact_id, account_id, buying_role, seniority, department)."""
    cols = ["contact_id", "account_id", "buying_role", "seniority", "department"]
    df = pd.DataFrame(list(rows), columns=cols)
    return df.astype({c: "str" for c in cols})


def make_touches(rows) -> pd.DataFrame:
    """rows: (account_id, contact_id or None, timestamp, channel, signal)."""
    rows = list(rows)
    df = pd.DataFrame(
        {
            "touchpoint_id": pd.Series([f"t{i}" for i in range(len(rows))], dtype="str"),
            "account_id": pd.Series([r[0] for r in rows], dtype="str"),
            "contact_id": pd.Series([r[1] for r in rows], dtype="str"),
            "timestamp": pd.Series(
                [pd.Timestamp(r[2]) for r in rows], dtype="datetime64[ns, UTC]"
            ),
            "channel": pd.Series([r[3] for r in rows], dtype="str"),
            "signal": pd.Series([r[4] for r in rows], dtype="str"),
            "campaign_id": "cmp",
            "asset_id": "ast",
            "cost": 0.0,
        }
    )
    return df


def assert_frames_close(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-9) -> None:
    """Counts and ids exactly, floats to ``rtol`` (plus 1e-12 absolute)."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        x, y = a[col].reset_index(drop=True), b[col].reset_index(drop=True)
        assert x.dtype == y.dtype, col
        if pd.api.types.is_float_dtype(x.dtype):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-12, err_msg=col)
        else:
            pd.testing.assert_series_equal(x, y, check_names=False, obj=col)


# ---------------------------------------------------------------------------
# brute-force reference: a direct transcription of the module docstring


def reference_features(touches, contacts, accounts, as_of, config, signals, channels):
    T = pd.Timestamp(as_of)
    T = T.tz_localize("UTC") if T.tzinfo is None else T.tz_convert("UTC")
    h = config.half_life_days
    L = None if config.lookback_days is None else config.lookback_days * DAY
    role_of = dict(zip(contacts["contact_id"], contacts["buying_role"]))
    sen_of = dict(zip(contacts["contact_id"], contacts["seniority"]))
    dep_of = dict(zip(contacts["contact_id"], contacts["department"]))
    imp = {r: config.role_importance.get(r, 0.0) for r in BUYING_ROLES}
    total_imp = sum(imp.values())
    out = []
    for a in accounts["account_id"]:
        t = touches[touches["account_id"] == a]
        age = (T - t["timestamp"]) / DAY
        inw = (t["timestamp"] <= T) & (True if L is None else t["timestamp"] > T - L)
        w = 0.5 ** (age / h)
        row = {"account_id": a, "n_touches": int(inw.sum())}
        row["n_anonymous_touches"] = int((inw & t["contact_id"].isna()).sum())
        row["decayed_touches"] = float(w[inw].sum())
        for s in signals:
            m = inw & (t["signal"] == s)
            row[f"n_signal__{s}"], row[f"decayed_signal__{s}"] = int(m.sum()), float(w[m].sum())
        for c in channels:
            m = inw & (t["channel"] == c)
            row[f"n_channel__{c}"], row[f"decayed_channel__{c}"] = int(m.sum()), float(w[m].sum())
        named = t[inw & t["contact_id"].notna()]
        engaged = set(named["contact_id"])
        row["engaged_contacts"] = len(engaged)
        row["roles_covered"] = len({role_of[c] for c in engaged} - {"unknown"})
        cov = 0.0
        for r in BUYING_ROLES:
            m = inw & (t["contact_id"].map(role_of) == r).to_numpy(dtype=bool)
            E = float(w[m].sum())
            row[f"decayed_role__{r}"] = E
            cov += imp[r] * (1 - np.exp(-E / config.coverage_saturation))
        row["role_coverage_weighted"] = cov / total_imp
        for s in SENIORITIES:
            k = sum(sen_of[c] == s for c in engaged)
            row[f"seniority_share__{s}"] = k / len(engaged) if engaged else 0.0
        for d in DEPARTMENTS:
            k = sum(dep_of[c] == d for c in engaged)
            row[f"department_share__{d}"] = k / len(engaged) if engaged else 0.0
        for win in config.momentum_windows:
            W = win * DAY
            ts = t["timestamp"]
            rec = (ts <= T) & (ts > T - W)
            prev = (ts <= T - W) & (ts > T - 2 * W)
            d1 = float((0.5 ** (((T - ts) / DAY) / h))[rec].sum())
            d0 = float((0.5 ** (((T - W - ts) / DAY) / h))[prev].sum())
            n1, n0 = int(rec.sum()), int(prev.sum())
            row[f"momentum_{win}d"] = (n1 - n0) / (n0 + 1)
            row[f"momentum_decayed_{win}d"] = (d1 - d0) / (d0 + 1)
        out.append(row)
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------
# hypothesis strategies: small random worlds around AS_OF


@st.composite
def worlds(draw, max_touches: int = 25):
    n_acc = draw(st.integers(1, 4))
    account_ids = [f"a{i}" for i in range(n_acc)]
    n_con = draw(st.integers(0, 6))
    contacts = make_contacts(
        (
            f"c{i}",
            draw(st.sampled_from(account_ids)),
            draw(st.sampled_from(BUYING_ROLES)),
            draw(st.sampled_from(SENIORITIES)),
            draw(st.sampled_from(DEPARTMENTS)),
        )
        for i in range(n_con)
    )
    contact_choices = [None] + [f"c{i}" for i in range(n_con)]
    # half-day offsets from AS_OF: often exactly on a window boundary of some date
    touch = st.tuples(
        st.sampled_from(account_ids),
        st.sampled_from(contact_choices),
        st.integers(-2 * 400, 2 * 60).map(lambda k: AS_OF + k * pd.Timedelta(hours=12)),
        st.sampled_from(CHANNELS),
        st.sampled_from(SIGNALS),
    )
    touches = make_touches(draw(st.lists(touch, max_size=max_touches)))
    return touches, contacts, make_accounts(account_ids), contact_choices, account_ids


configs = st.builds(
    SignalConfig,
    half_life_days=st.sampled_from([0.5, 7.0, 30.0, 365.0]),
    lookback_days=st.sampled_from([None, 180, 365, 200]),
    momentum_windows=st.sampled_from([(30, 60, 90), (7,), (1, 90)]),
    coverage_saturation=st.sampled_from([0.5, 1.0, 3.0]),
)

VOCAB = dict(signals=SIGNALS, channels=CHANNELS, departments=DEPARTMENTS)


# ---------------------------------------------------------------------------
# hand-computed example


@pytest.fixture
def tiny():
    accounts = make_accounts(["a1", "a2"])
    contacts = make_contacts(
        [
            ("c1", "a1", "economic_buyer", "vp", "finance"),
            ("c2", "a1", "user", "manager", "it"),
        ]
    )
    touches = make_touches(
        [
            ("a1", "c1", AS_OF, "email", "open"),  # age 0
            ("a1", "c1", AS_OF - 10 * DAY, "email", "click"),  # age 10
            ("a1", "c2", AS_OF - 20 * DAY, "web", "visit"),  # age 20
            ("a1", None, AS_OF - 40 * DAY, "web", "visit"),  # age 40, anonymous
            ("a1", "c2", AS_OF + DAY, "web", "visit"),  # future: never seen
        ]
    )
    return touches, contacts, accounts


def test_hand_computed_counts_decay_and_momentum(tiny):
    touches, contacts, accounts = tiny
    cfg = SignalConfig(half_life_days=10.0, momentum_windows=(30,))
    f = build_signal_features(touches, contacts, accounts, AS_OF, cfg)
    a1 = f.set_index("account_id").loc["a1"]
    # decay weights 0.5 ** (age / 10): ages 0, 10, 20, 40 -> 1, 1/2, 1/4, 1/16
    assert a1["n_touches"] == 4
    assert a1["n_anonymous_touches"] == 1
    assert a1["n_signal__open"] == 1 and a1["n_signal__click"] == 1
    assert a1["n_signal__visit"] == 2
    assert a1["n_channel__email"] == 2 and a1["n_channel__web"] == 2
    assert a1["decayed_touches"] == pytest.approx(1 + 0.5 + 0.25 + 0.0625)
    assert a1["decayed_signal__visit"] == pytest.approx(0.25 + 0.0625)
    assert a1["decayed_channel__email"] == pytest.approx(1.5)
    assert a1["decayed_role__economic_buyer"] == pytest.approx(1.5)
    assert a1["decayed_role__user"] == pytest.approx(0.25)
    assert a1["engaged_contacts"] == 2
    assert a1["roles_covered"] == 2
    expected_cov = (1.0 * (1 - np.exp(-1.5)) + 0.2 * (1 - np.exp(-0.25))) / 4.2
    assert a1["role_coverage_weighted"] == pytest.approx(expected_cov)
    assert a1["seniority_share__vp"] == 0.5 and a1["seniority_share__manager"] == 0.5
    assert a1["department_share__finance"] == 0.5
    # 30-day momentum: 3 touches in (T-30, T], 1 in (T-60, T-30]
    assert a1["momentum_30d"] == pytest.approx((3 - 1) / (1 + 1))
    # previous window decayed to its own end T-30: the age-40 touch is 10 days old
    assert a1["momentum_decayed_30d"] == pytest.approx((1.75 - 0.5) / (0.5 + 1))
    assert f["as_of"].dtype == "datetime64[ns, UTC]"
    assert (f["as_of"] == AS_OF).all()


def test_accounts_without_touches_get_zeros(tiny):
    touches, contacts, accounts = tiny
    f = build_signal_features(touches, contacts, accounts, AS_OF)
    assert list(f["account_id"]) == ["a1", "a2"]
    a2 = f.loc[f["account_id"] == "a2"].drop(columns=["account_id", "as_of"])
    assert (a2.to_numpy(dtype=float) == 0.0).all()
    assert not f.isna().any().any()


def test_no_touches_at_all_gives_zeros_for_every_account():
    accounts = make_accounts(["a1", "a2", "a3"])
    contacts = make_contacts([])
    touches = make_touches([])
    f = build_signal_features(touches, contacts, accounts, AS_OF, signals=["open"])
    assert len(f) == 3
    assert (f.drop(columns=["account_id", "as_of"]).to_numpy(dtype=float) == 0).all()


def test_anonymous_touches_count_for_signals_but_not_contacts_or_roles():
    accounts = make_accounts(["a1"])
    contacts = make_contacts([("c1", "a1", "economic_buyer", "vp", "finance")])
    touches = make_touches([("a1", None, AS_OF - DAY, "web", "intent")] * 5)
    f = build_signal_features(touches, contacts, accounts, AS_OF).iloc[0]
    assert f["n_touches"] == 5 and f["n_anonymous_touches"] == 5
    assert f["n_signal__intent"] == 5 and f["decayed_channel__web"] > 0
    assert f["momentum_30d"] == 5.0
    assert f["engaged_contacts"] == 0 and f["roles_covered"] == 0
    assert f["role_coverage_weighted"] == 0.0
    assert f["decayed_role__economic_buyer"] == 0.0
    assert f["seniority_share__vp"] == 0.0


def test_window_boundaries_are_half_open():
    accounts = make_accounts(["a1"])
    contacts = make_contacts([])
    L = 365
    touches = make_touches(
        [
            ("a1", None, AS_OF, "web", "at_as_of"),  # in: timestamp <= as_of
            ("a1", None, AS_OF + pd.Timedelta(1, "ns"), "web", "just_after"),  # out
            ("a1", None, AS_OF - L * DAY, "web", "at_lookback"),  # out: age == L
            ("a1", None, AS_OF - L * DAY + pd.Timedelta(1, "ns"), "web", "inside"),  # in
        ]
    )
    f = build_signal_features(touches, contacts, accounts, AS_OF).iloc[0]
    assert f["n_signal__at_as_of"] == 1 and f["decayed_signal__at_as_of"] == 1.0
    assert f["n_signal__just_after"] == 0 and f["decayed_signal__just_after"] == 0.0
    assert f["n_signal__at_lookback"] == 0
    assert f["n_signal__inside"] == 1
    panel = build_signal_panel(touches, contacts, accounts, [AS_OF - 7 * DAY, AS_OF])
    assert list(panel["n_signal__at_lookback"]) == [1, 0]  # leaves the window at AS_OF
    assert list(panel["n_signal__inside"]) == [1, 1]
    unbounded = build_signal_features(
        touches, contacts, accounts, AS_OF, SignalConfig(lookback_days=None)
    ).iloc[0]
    assert unbounded["n_signal__at_lookback"] == 1


def test_key_roles_strongly_engaged_beat_broad_weak_coverage():
    accounts = make_accounts(["focused", "broad"])
    contacts = [
        ("eb", "focused", "economic_buyer", "c_level", "finance"),
        ("dm", "focused", "decision_maker", "vp", "it"),
    ]
    touches = []
    for c in ("eb", "dm"):  # a few strong (recent) touches each
        touches += [("focused", c, AS_OF - k * DAY, "email", "meeting") for k in range(4)]
    weak_roles = ("user", "influencer", "technical_evaluator", "procurement")
    for i in range(60):  # many contacts, one old (weak) touch each
        cid = f"w{i}"
        contacts.append((cid, "broad", weak_roles[i % 4], "manager", "it"))
        touches.append(("broad", cid, AS_OF - 80 * DAY, "web", "visit"))
    f = build_signal_features(
        make_touches(touches), make_contacts(contacts), accounts, AS_OF
    ).set_index("account_id")
    focused, broad = f.loc["focused"], f.loc["broad"]
    # broad has more touches, contacts and roles...
    assert broad["n_touches"] > focused["n_touches"]
    assert broad["engaged_contacts"] > focused["engaged_contacts"]
    assert broad["roles_covered"] > focused["roles_covered"]
    # ...but strong engagement of the key decision makers counts more
    assert focused["role_coverage_weighted"] > broad["role_coverage_weighted"]
    assert 0 <= broad["role_coverage_weighted"] <= 1.4 / 4.2 + 1e-12
    assert focused["role_coverage_weighted"] > 0.9 * 2.0 / 4.2


def test_as_of_accepts_str_timestamp_datetime_and_naive_means_utc(tiny):
    touches, contacts, accounts = tiny
    expected = build_signal_features(touches, contacts, accounts, AS_OF)
    for as_of in (
        "2024-06-30",
        "2024-06-30T00:00:00Z",
        pd.Timestamp("2024-06-30"),
        dt.datetime(2024, 6, 30),
        np.datetime64("2024-06-30"),
        pd.Timestamp("2024-06-30 02:00", tz="Europe/Paris"),  # = 00:00 UTC
    ):
        got = build_signal_features(touches, contacts, accounts, as_of)
        pd.testing.assert_frame_equal(got, expected, obj=repr(as_of))


def test_as_of_not_a_date_is_refused(tiny):
    touches, contacts, accounts = tiny
    with pytest.raises(ConfigError, match="as_of 'soon' is not a date"):
        build_signal_features(touches, contacts, accounts, "soon")
    with pytest.raises(ConfigError, match="as_of_dates is empty"):
        build_signal_panel(touches, contacts, accounts, [])
    with pytest.raises(ConfigError, match="single date"):
        build_signal_features(touches, contacts, accounts, ["2024-01-01"])


# ---------------------------------------------------------------------------
# no leakage


@settings(max_examples=60, deadline=None)
@given(world=worlds(), data=st.data(), config=configs)
def test_touches_after_as_of_change_nothing(world, data, config):
    touches, contacts, accounts, contact_choices, account_ids = world
    before = build_signal_features(touches, contacts, accounts, AS_OF, config, **VOCAB)
    # drop every future touch, then add and alter arbitrary future ones
    past = touches[touches["timestamp"] <= AS_OF]
    future = st.tuples(
        st.sampled_from(account_ids),
        st.sampled_from(contact_choices),
        st.integers(1, 10**9 * 86_400 * 400).map(lambda ns: AS_OF + pd.Timedelta(ns, "ns")),
        st.sampled_from(CHANNELS),
        st.sampled_from(SIGNALS),
    )
    extra = make_touches(data.draw(st.lists(future, max_size=20)))
    altered = pd.concat([extra, past], ignore_index=True)
    after = build_signal_features(altered, contacts, accounts, AS_OF, config, **VOCAB)
    pd.testing.assert_frame_equal(before, after)


def test_vocabulary_from_whole_table_gives_future_only_values_zero_columns(tiny):
    touches, contacts, accounts = tiny
    future = make_touches([("a2", None, AS_OF + 30 * DAY, "events", "webinar")])
    both = pd.concat([touches, future], ignore_index=True)
    f = build_signal_features(both, contacts, accounts, AS_OF)
    assert "n_signal__webinar" in f.columns and "n_channel__events" in f.columns
    assert (f["n_signal__webinar"] == 0).all() and (f["decayed_channel__events"] == 0).all()
    g = build_signal_features(both, contacts, accounts, AS_OF + 60 * DAY)
    assert list(f.columns) == list(g.columns)
    assert g.set_index("account_id").loc["a2", "n_signal__webinar"] == 1


# ---------------------------------------------------------------------------
# fast against brute force, panel against single dates


@settings(max_examples=40, deadline=None)
@given(
    world=worlds(),
    config=configs,
    offsets=st.lists(st.integers(-200, 60), min_size=1, max_size=4),
)
def test_matches_brute_force_reference(world, config, offsets):
    touches, contacts, accounts, _, _ = world
    dates = [AS_OF + k * DAY for k in offsets]  # whole days: boundaries are hit
    got = build_signal_panel(touches, contacts, accounts, dates, config, **VOCAB)
    refs = []
    for d in dates:
        ref = reference_features(touches, contacts, accounts, d, config, SIGNALS, CHANNELS)
        ref.insert(1, "as_of", pd.Series([d] * len(ref), dtype="datetime64[ns, UTC]"))
        refs.append(ref)
    ref = pd.concat(refs, ignore_index=True)
    assert_frames_close(got, ref[got.columns].astype(got.dtypes.to_dict()))


@settings(max_examples=40, deadline=None)
@given(
    world=worlds(max_touches=40),
    config=configs,
    offsets=st.lists(st.integers(-2 * 500, 2 * 90), min_size=1, max_size=8),
)
def test_panel_equals_stacked_single_dates(world, config, offsets):
    touches, contacts, accounts, _, _ = world
    # unsorted, maybe repeated, half-day grid like the touches
    dates = [AS_OF + k * pd.Timedelta(hours=12) for k in offsets]
    panel = build_signal_panel(touches, contacts, accounts, dates, config, **VOCAB)
    stacked = pd.concat(
        [build_signal_features(touches, contacts, accounts, d, config, **VOCAB) for d in dates],
        ignore_index=True,
    )
    assert_frames_close(panel, stacked, rtol=1e-10)


def test_weekly_panel_over_years_equals_single_dates():
    rng = np.random.default_rng(7)
    n, accounts = 3000, make_accounts([f"a{i}" for i in range(30)])
    contacts = make_contacts(
        (f"c{i}", f"a{i % 30}", BUYING_ROLES[i % 8], SENIORITIES[i % 6], DEPARTMENTS[i % 3])
        for i in range(90)
    )
    start = AS_OF - 3 * 365 * DAY
    touches = make_touches(
        (
            f"a{rng.integers(30)}",
            None if rng.random() < 0.3 else f"c{rng.integers(90)}",
            start + pd.Timedelta(int(rng.integers(0, 3 * 365 * 86_400)), "s"),
            CHANNELS[rng.integers(2)],
            SIGNALS[rng.integers(3)],
        )
        for _ in range(n)
    )
    dates = pd.date_range(start, AS_OF, freq="7D")
    cfg = SignalConfig(half_life_days=3.0)  # fast decay: stresses the carry-forward
    panel = build_signal_panel(touches, contacts, accounts, dates, cfg)
    assert len(panel) == len(dates) * 30
    stacked = pd.concat(
        [build_signal_features(touches, contacts, accounts, d, cfg) for d in dates[::13]],
        ignore_index=True,
    )
    picked = panel[panel["as_of"].isin(dates[::13])].reset_index(drop=True)
    assert_frames_close(picked, stacked, rtol=1e-10)
    assert (panel.filter(regex="^decayed_").to_numpy() >= 0).all()


# ---------------------------------------------------------------------------
# columns, vocabularies, configuration, refusals


def test_column_names_are_stable_and_documented(tiny):
    touches, contacts, accounts = tiny
    names = signal_feature_names(touches, contacts)
    f = build_signal_features(touches, contacts, accounts, AS_OF)
    p = build_signal_panel(touches, contacts, accounts, [AS_OF - 400 * DAY, AS_OF])
    assert list(f.columns) == ["account_id", "as_of", *names] == list(p.columns)
    assert names[:2] == ["n_touches", "n_anonymous_touches"]
    for required in (
        "n_signal__open",
        "n_channel__web",
        "decayed_signal__click",
        "decayed_channel__email",
        "engaged_contacts",
        "roles_covered",
        "role_coverage_weighted",
        "seniority_share__vp",
        "department_share__finance",
        "momentum_30d",
        "momentum_decayed_30d",
        "momentum_90d",
    ):
        assert required in names
    assert f["n_touches"].dtype == np.int64 and f["decayed_touches"].dtype == np.float64


def test_explicit_vocabulary_pins_columns_and_counts_the_rest_in_totals(tiny):
    touches, contacts, accounts = tiny
    f = build_signal_features(
        touches, contacts, accounts, AS_OF, signals=["open", "webinar"], channels=["web"]
    ).set_index("account_id")
    assert [c for c in f.columns if c.startswith("n_signal__")] == [
        "n_signal__open",
        "n_signal__webinar",
    ]
    assert f.loc["a1", "n_touches"] == 4 and f.loc["a1", "n_signal__open"] == 1
    assert f.loc["a1", "n_signal__webinar"] == 0


def test_values_are_slugged_and_colliding_slugs_refused():
    accounts = make_accounts(["a1"])
    contacts = make_contacts([])
    touches = make_touches([("a1", None, AS_OF, "Paid Social", "Web Visit")])
    f = build_signal_features(touches, contacts, accounts, AS_OF)
    assert f.loc[0, "n_channel__paid_social"] == 1 and f.loc[0, "n_signal__web_visit"] == 1
    clash = make_touches(
        [("a1", None, AS_OF, "web", "Web Visit"), ("a1", None, AS_OF, "web", "web-visit")]
    )
    with pytest.raises(SchemaError, match="'Web Visit' and 'web-visit'.*'web_visit'"):
        build_signal_features(clash, contacts, accounts, AS_OF)


def test_default_role_importance_puts_key_roles_first():
    cfg = SignalConfig()
    assert cfg.role_importance == DEFAULT_ROLE_IMPORTANCE
    assert set(cfg.role_importance) == set(BUYING_ROLES)
    key = min(cfg.role_importance[r] for r in ("economic_buyer", "decision_maker", "champion"))
    others = max(
        v
        for r, v in cfg.role_importance.items()
        if r not in ("economic_buyer", "decision_maker", "champion")
    )
    assert key > others


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"half_life_days": 0}, "half_life_days must be a positive number"),
        ({"half_life_days": float("nan")}, "half_life_days must be a positive number"),
        ({"lookback_days": 0}, "lookback_days must be a positive whole number"),
        ({"lookback_days": 100}, r"shorter than twice the longest momentum window \(2 x 90"),
        ({"momentum_windows": (30, 30)}, "has duplicates"),
        ({"momentum_windows": (0,)}, "positive whole days"),
        ({"role_importance": {"ceo": 1.0}}, r"unknown buying roles \['ceo'\]"),
        ({"role_importance": {"user": -1.0}}, r"role_importance\['user'\] must be"),
        ({"role_importance": {"user": 0.0}}, "sums to 0"),
        ({"coverage_saturation": -1.0}, "coverage_saturation must be a positive"),
    ],
)
def test_bad_config_is_refused_with_the_fix(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SignalConfig(**kwargs)


def test_config_copies_role_importance_and_is_hashable():
    weights = {"economic_buyer": 2.0}
    cfg = SignalConfig(role_importance=weights)
    weights["economic_buyer"] = 0.0
    assert cfg.role_importance == {"economic_buyer": 2.0}
    assert hash(SignalConfig()) == hash(SignalConfig()) and SignalConfig() == SignalConfig()
    assert SignalConfig(momentum_windows=[7, 14]).momentum_windows == (7, 14)


def test_bad_inputs_are_refused_with_the_fix(tiny):
    touches, contacts, accounts = tiny
    with pytest.raises(SchemaError, match="touchpoints is missing column.*signal"):
        build_signal_features(touches.drop(columns="signal"), contacts, accounts, AS_OF)
    naive = touches.assign(timestamp=touches["timestamp"].dt.tz_localize(None))
    with pytest.raises(SchemaError, match="tz-naive.*tz_localize"):
        build_signal_features(naive, contacts, accounts, AS_OF)
    with pytest.raises(DataValidationError, match="account_id is not in accounts.*'a1'"):
        build_signal_features(touches, contacts, accounts.iloc[1:], AS_OF)
    with pytest.raises(DataValidationError, match="contact_id is not in contacts"):
        build_signal_features(touches, contacts.iloc[:1], accounts, AS_OF)
    with pytest.raises(DataValidationError, match="accounts.account_id must be unique"):
        build_signal_features(
            touches, contacts, pd.concat([accounts, accounts]), AS_OF
        )
    with pytest.raises(DataValidationError, match="accounts is empty"):
        build_signal_features(touches, contacts, accounts.iloc[:0], AS_OF)
    bad_role = contacts.assign(buying_role=["economic_buyer", "ceo"])
    with pytest.raises(DataValidationError, match="buying_role.*'ceo'"):
        build_signal_features(touches, contacts.pipe(lambda _: bad_role), accounts, AS_OF)


def test_inputs_are_not_modified(tiny):
    touches, contacts, accounts = tiny
    copies = [t.copy() for t in tiny]
    build_signal_panel(touches, contacts, accounts, [AS_OF, AS_OF - 7 * DAY])
    for before, after in zip(copies, tiny):
        pd.testing.assert_frame_equal(before, after)
