"""Tests of the synthetic ABM data generator (features.synthetic).

Small worlds (150-300 accounts) keep the run fast; one module-scoped data set
is shared by the read-only tests.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from features.contracts import (
    ABM_TIERS,
    BUYING_ROLES,
    CONTRACTS,
    COST_TYPES,
    OPPORTUNITY_STAGES,
    SENIORITIES,
    TABLE_ORDER,
    UTC_NS,
)
from features.errors import ConfigError, WorkbenchError
from features.synthetic import SyntheticDataset, generate_dataset, write_dataset

START, END = "2024-01-01", "2025-12-31"
N = 300


@pytest.fixture(scope="module")
def ds() -> SyntheticDataset:
    return generate_dataset(N, seed=7, start=START, end=END)


# --- determinism -----------------------------------------------------------


def test_same_seed_gives_identical_frames_and_different_seed_differs(ds):
    again = generate_dataset(N, seed=7, start=START, end=END)
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(ds.tables[name], again.tables[name])
    assert json.dumps(ds.ground_truth, sort_keys=True) == json.dumps(
        again.ground_truth, sort_keys=True
    )
    other = generate_dataset(N, seed=8, start=START, end=END)
    assert not ds.tables["touchpoints"].equals(other.tables["touchpoints"])
    assert not ds.tables["accounts"].equals(other.tables["accounts"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_writes_byte_identical_files(tmp_path, fmt):
    a = write_dataset(generate_dataset(120, seed=3), tmp_path / "a", format=fmt)
    b = write_dataset(generate_dataset(120, seed=3), tmp_path / "b", format=fmt)
    assert set(a) == set(TABLE_ORDER) | {"ground_truth"}
    for name, path in a.items():
        assert path.name == ("ground_truth.json" if name == "ground_truth" else f"{name}.{fmt}")
        assert path.read_bytes() == b[name].read_bytes(), name


def test_csv_timestamps_are_iso_utc_with_z_and_nulls_are_empty(tmp_path, ds):
    paths = write_dataset(ds, tmp_path, format="csv")
    lines = paths["touchpoints"].read_text().splitlines()
    assert lines[0] == ",".join(CONTRACTS["touchpoints"].kinds)
    ts = lines[1].split(",")[3]
    assert pd.Timestamp(ts) >= pd.Timestamp(START, tz="UTC")
    assert len(ts) == 20 and ts[10] == "T" and ts.endswith("Z")
    opp = pd.read_csv(paths["opportunities"], dtype=str, keep_default_na=False)
    assert (opp["closed_at"] == "").sum() == ds.tables["opportunities"]["closed_at"].isna().sum()
    assert set(opp["is_won"]) <= {"true", "false"}
    acc = pd.read_csv(paths["accounts"], dtype=str, keep_default_na=False)
    assert (acc["annual_revenue"] == "").sum() == ds.tables["accounts"]["annual_revenue"].isna().sum()
    assert not re.search(r"(^|,)nan(,|$)", paths["accounts"].read_text(), re.M | re.I)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_written_files_load_back_through_the_validator_unchanged(tmp_path, ds, fmt):
    validation = pytest.importorskip("features.validation")
    write_dataset(ds, tmp_path, format=fmt)
    loaded = validation.load_dataset(tmp_path)
    assert int(loaded.summary()["quarantined"].sum()) == 0
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(loaded.tables[name], ds.tables[name], check_like=False)


def test_parquet_round_trips_the_frames(tmp_path, ds):
    paths = write_dataset(ds, tmp_path, format="parquet")
    for name in TABLE_ORDER:
        back = pd.read_parquet(paths[name])
        assert list(back.columns) == list(ds.tables[name].columns)
        assert len(back) == len(ds.tables[name])
        for col in back.columns:
            if ds.tables[name][col].dtype == UTC_NS:
                assert back[col].dt.tz is not None


def test_ground_truth_json_is_sorted_and_round_trips(tmp_path, ds):
    path = write_dataset(ds, tmp_path)["ground_truth"]
    text = path.read_text()
    assert text == json.dumps(ds.ground_truth, sort_keys=True, indent=2) + "\n"
    assert json.loads(text) == json.loads(json.dumps(ds.ground_truth))


# --- contracts ---------------------------------------------------------------


def test_every_table_has_exactly_the_contract_columns_and_loader_dtypes(ds):
    assert set(ds.tables) == set(TABLE_ORDER)
    for name in TABLE_ORDER:
        df, c = ds.tables[name], CONTRACTS[name]
        assert list(df.columns) == list(c.kinds), name
        assert len(df) > 0, name
        for col, kind in c.kinds.items():
            dtype = df[col].dtype
            if kind in ("id", "str"):
                assert isinstance(dtype, pd.StringDtype), (name, col, dtype)
            elif kind == "datetime":
                assert dtype == UTC_NS, (name, col, dtype)
            elif kind == "float":
                assert dtype == np.float64, (name, col, dtype)
            else:
                assert dtype == bool, (name, col, dtype)
            if not c.nullable(col):
                assert df[col].notna().all(), (name, col)


def test_every_table_passes_its_pandera_schema(ds):
    for name in TABLE_ORDER:
        CONTRACTS[name].schema.validate(ds.tables[name], lazy=True)


def test_primary_keys_unique_and_foreign_keys_resolve(ds):
    t = ds.tables
    for name in TABLE_ORDER:
        c = CONTRACTS[name]
        assert not t[name].duplicated(list(c.primary_key)).any(), name
        for fk in c.foreign_keys:
            values = t[name][fk.column].dropna()
            assert values.isin(t[fk.table][fk.ref_column]).all(), (name, fk)


def test_allowed_values(ds):
    t = ds.tables
    assert set(t["accounts"]["abm_tier"]) <= set(ABM_TIERS)
    assert set(t["spend"]["abm_tier"]) <= set(ABM_TIERS)
    assert set(t["contacts"]["buying_role"]) <= set(BUYING_ROLES)
    assert set(t["contacts"]["seniority"]) <= set(SENIORITIES)
    assert set(t["spend"]["cost_type"]) == set(COST_TYPES)
    assert set(t["opportunities"]["stage"]) <= set(OPPORTUNITY_STAGES)
    assert set(t["opportunity_stages"]["stage"]) <= set(OPPORTUNITY_STAGES)
    assert set(t["accounts"]["region"]) == {"NA", "EMEA", "APAC", "LATAM"}
    assert 3 <= t["accounts"]["business_unit"].nunique() <= 5
    assert {"enterprise", "mid_market", "smb"} <= set(t["accounts"]["segment"])
    for name, col in [("touchpoints", "cost"), ("opportunities", "amount"),
                      ("contracts", "annual_value"), ("spend", "amount"),
                      ("accounts", "annual_revenue")]:
        assert (t[name][col].dropna() >= 0).all(), (name, col)


def test_ids_are_zero_padded_and_sorted_in_creation_order(ds):
    t = ds.tables
    patterns = {
        ("accounts", "account_id"): r"A\d{6}",
        ("contacts", "contact_id"): r"C\d{7}",
        ("touchpoints", "touchpoint_id"): r"T\d{8}",
        ("opportunities", "opportunity_id"): r"O\d{6}",
    }
    for (name, col), pattern in patterns.items():
        s = t[name][col]
        assert s.str.fullmatch(pattern).all(), (name, col)
        assert s.is_monotonic_increasing, (name, col)
    assert t["touchpoints"]["timestamp"].is_monotonic_increasing
    assert t["opportunities"]["created_at"].is_monotonic_increasing
    assert t["contracts"]["start_date"].is_monotonic_increasing


def test_all_timestamps_inside_the_window_and_closed_after_created(ds):
    lo, hi = pd.Timestamp(START, tz="UTC"), pd.Timestamp(END, tz="UTC")
    for name in TABLE_ORDER:
        for col, kind in CONTRACTS[name].kinds.items():
            if kind == "datetime":
                s = ds.tables[name][col].dropna()
                assert ((s >= lo) & (s <= hi)).all(), (name, col)
    opp = ds.tables["opportunities"]
    closed = opp["closed_at"].notna()
    assert (opp.loc[closed, "closed_at"] >= opp.loc[closed, "created_at"]).all()
    k = ds.tables["contracts"]
    ended = k["end_date"].notna()
    assert (k.loc[ended, "end_date"] >= k.loc[ended, "start_date"]).all()
    sp = ds.tables["spend"]
    assert (sp["period_end"] >= sp["period_start"]).all()


def test_opportunity_states_and_stage_histories_are_consistent(ds):
    opp = ds.tables["opportunities"].set_index("opportunity_id")
    closed = opp["closed_at"].notna()
    assert closed.any() and (~closed).any(), "expected both closed and still-open deals"
    assert opp.loc[closed, "stage"].isin(["closed_won", "closed_lost"]).all()
    assert not opp.loc[~closed, "stage"].isin(["closed_won", "closed_lost"]).any()
    assert (opp["is_won"] == (opp["stage"] == "closed_won")).all()
    st = ds.tables["opportunity_stages"]
    first = st.groupby("opportunity_id", sort=False).first()
    assert (first["stage"] == "qualification").all()
    assert (first["entered_at"] == opp.loc[first.index, "created_at"]).all()
    last = st.groupby("opportunity_id", sort=False).last()
    assert (last["stage"] == opp.loc[last.index, "stage"]).all()
    assert st.groupby("opportunity_id")["entered_at"].apply(
        lambda s: s.is_monotonic_increasing
    ).all()
    won = st[st["stage"] == "closed_won"]["opportunity_id"]
    assert (st[st["opportunity_id"].isin(won)].groupby("opportunity_id").size() == 6).all()


def test_open_accounts_have_one_opportunity_at_a_time(ds):
    opp = ds.tables["opportunities"].sort_values(["account_id", "created_at"])
    nxt = opp.groupby("account_id")["created_at"].shift(-1)
    has_next = nxt.notna()
    assert (opp.loc[has_next, "closed_at"] <= nxt[has_next]).all()


def test_contracts_come_from_won_deals(ds):
    opp, k = ds.tables["opportunities"], ds.tables["contracts"]
    assert len(k) == int(opp["is_won"].sum())
    assert k["account_id"].isin(opp.loc[opp["is_won"], "account_id"]).all()
    assert (k["annual_value"] > 0).all()


def test_anonymous_touches_have_no_contact(ds):
    tp = ds.tables["touchpoints"]
    assert tp.loc[tp["signal"] == "intent_surge", "contact_id"].isna().all()
    assert tp.loc[tp["channel"] == "email", "contact_id"].notna().all()
    assert tp.loc[tp["signal"] == "web_visit", "contact_id"].isna().mean() > 0.2
    c = ds.tables["contacts"].set_index("contact_id")["account_id"]
    known = tp.dropna(subset=["contact_id"])
    assert (c.loc[known["contact_id"]].to_numpy() == known["account_id"].to_numpy()).all()


# --- realism and planted structure ------------------------------------------


def test_at_least_twelve_channels_and_the_named_signals(ds):
    tp = ds.tables["touchpoints"]
    assert tp["channel"].nunique() >= 12
    expected = {
        "web_visit", "pricing_page_visit", "content_download", "webinar_register",
        "webinar_attend", "event_attend", "email_open", "email_click", "paid_social_click",
        "display_click", "linkedin_engagement", "sales_meeting", "demo_request",
        "demo_attend", "workshop_attend", "intent_surge", "direct_mail_response",
        "paid_search_click",
    }
    assert expected <= set(tp["signal"])
    assert tp["campaign_id"].notna().any() and tp["asset_id"].notna().any()


def test_committee_sizes_between_3_and_40_and_bigger_for_bigger_accounts(ds):
    acc = ds.tables["accounts"].set_index("account_id")
    size = ds.tables["contacts"].groupby("account_id").size().reindex(acc.index)
    assert size.notna().all()
    assert size.between(3, 40).all()
    by_seg = size.groupby(acc["segment"]).mean()
    assert by_seg["enterprise"] > by_seg["mid_market"] > by_seg["smb"]


def test_touch_volume_is_about_500_per_account_and_skewed(ds):
    per = ds.tables["touchpoints"].groupby("account_id").size()
    assert 300 < per.sum() / N < 800
    assert per.mean() > per.median()


def test_abm_accounts_are_larger_and_fitter_selection_bias(ds):
    acc = ds.tables["accounts"]
    abm = acc["abm_tier"] != "none"
    assert 0.1 < abm.mean() < 0.5
    rev = np.log10(acc["annual_revenue"])
    assert rev[abm].mean() > rev[~abm].mean() + 0.5
    gt = ds.ground_truth["naive_abm_lift"]
    assert gt["abm"]["mean_fit"] > gt["non_abm"]["mean_fit"]


def test_naive_abm_lift_overstates_the_true_effect(ds):
    gt = ds.ground_truth
    naive = gt["naive_abm_lift"]["opportunities_per_account_ratio"]
    true = gt["true_abm_effect"]["opportunities_per_account_ratio"]
    assert true > 1.0
    assert naive > true + 0.5


def test_one_to_one_costs_most_per_account(ds):
    acc = ds.tables["accounts"]["abm_tier"].value_counts()
    spend = ds.tables["spend"].groupby("abm_tier")["amount"].sum()
    per = (spend / acc).dropna()
    assert per.idxmax() == "one_to_one"
    assert per["one_to_one"] > per["one_to_few"] > per["one_to_many"] > per["none"]


def test_higher_engagement_gives_more_opportunities(ds):
    acc = ds.tables["accounts"]["account_id"]
    touches = ds.tables["touchpoints"].groupby("account_id").size().reindex(acc, fill_value=0)
    opps = ds.tables["opportunities"].groupby("account_id").size().reindex(acc, fill_value=0)
    top = touches >= touches.median()
    assert opps[top].mean() > 1.5 * opps[~top].mean()


def test_ground_truth_holds_the_planted_quantities(ds):
    gt = ds.ground_truth
    for key in (
        "signal_weights", "decay_half_life_days", "role_multipliers",
        "seniority_multipliers", "abm_effects", "tier_propensity", "churn",
        "channel_effects", "naive_abm_lift", "true_abm_effect", "generator", "parameters",
    ):
        assert key in gt, key
    assert gt["parameters"] == {
        "n_accounts": N, "seed": 7, "start": "2024-01-01T00:00:00Z", "end": "2025-12-31T00:00:00Z",
    }
    assert set(gt["signal_weights"]) >= set(ds.tables["touchpoints"]["signal"])
    assert set(gt["role_multipliers"]) == set(BUYING_ROLES)
    assert set(gt["seniority_multipliers"]) == set(SENIORITIES)
    for tier in ABM_TIERS:
        assert set(gt["abm_effects"][tier]) == {
            "creation_log_odds", "win_log_odds", "deal_size_multiplier",
            "cycle_length_multiplier", "churn_multiplier",
        }
    ce = gt["channel_effects"]
    assert set(ce["shares"]) == set(ds.tables["touchpoints"]["channel"])
    assert sum(ce["shares"].values()) == pytest.approx(1.0)
    assert all(v >= 0 for v in ce["shares"].values())
    assert ce["incremental_conversions"]["web"] > 0


def test_channel_effects_follow_the_planted_weights(ds):
    shares = ds.ground_truth["channel_effects"]["shares"]
    # demo requests weigh 30 times a display click: the demo channel must matter more
    assert shares["demo"] > shares["display"]
    assert shares["sales"] > shares["direct_mail"]


# --- argument checks ----------------------------------------------------------


@pytest.mark.parametrize("n", [0, -5, 2.5, "10", True])
def test_bad_n_accounts_is_refused_with_the_fix(n):
    with pytest.raises(ConfigError, match="n_accounts must be a positive integer"):
        generate_dataset(n)


def test_short_or_malformed_window_is_refused():
    with pytest.raises(ConfigError, match="shorter than 28 days"):
        generate_dataset(10, start="2024-01-01", end="2024-01-10")
    with pytest.raises(WorkbenchError, match="ISO 8601"):
        generate_dataset(10, start="soon", end="later")


def test_unknown_write_format_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="format must be 'csv' or 'parquet'"):
        write_dataset(generate_dataset(20, seed=1), tmp_path, format="xlsx")  # type: ignore[arg-type]


def test_a_short_custom_window_still_respects_every_contract():
    ds = generate_dataset(60, seed=11, start="2024-03-15", end="2024-06-20T12:00:00Z")
    lo, hi = pd.Timestamp("2024-03-15", tz="UTC"), pd.Timestamp("2024-06-20T12:00:00Z")
    for name in TABLE_ORDER:
        CONTRACTS[name].schema.validate(ds.tables[name])
        for col, kind in CONTRACTS[name].kinds.items():
            if kind == "datetime":
                s = ds.tables[name][col].dropna()
                assert ((s >= lo) & (s <= hi)).all(), (name, col)


# ---- opt-in generator worlds (the default world is unchanged) ----------------


def test_noisy_world_adds_low_intent_volume_and_records_it():
    from features.synthetic import generate_dataset

    default = generate_dataset(120, seed=4)
    noisy = generate_dataset(120, seed=4, world="noisy_research")
    count = lambda ds, s: int((ds.tables["touchpoints"]["signal"] == s).sum())  # noqa: E731
    assert count(noisy, "email_open") > 1.5 * count(default, "email_open")
    assert "world" in noisy.ground_truth and "world" not in default.ground_truth
    assert noisy.ground_truth["signal_weights"] != default.ground_truth["signal_weights"]


def test_default_world_by_name_is_the_default():
    from features.synthetic import generate_dataset

    a = generate_dataset(80, seed=9)
    b = generate_dataset(80, seed=9, world="default")
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def test_unknown_world_is_refused_with_the_list():
    from features.errors import ConfigError
    from features.synthetic import generate_dataset

    with pytest.raises(ConfigError, match="unknown world 'mars'; use one of default"):
        generate_dataset(50, seed=0, world="mars")
    with pytest.raises(ConfigError, match="world overrides .* are unknown"):
        generate_dataset(50, seed=0, world={"gravity": 1})
