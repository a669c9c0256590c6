"""Breakdowns: account slices, buying role, funnel stage transitions, ABM vs non-ABM.

Expected values are worked by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution import (
    attribute,
    attribute_by_role,
    attribute_by_stage,
    compare_abm,
    paths_from_touches,
    touch_roles,
)
from features.errors import ConfigError, DataValidationError
from tests.attribution.contract import small_table

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def role_touches():
    # journey 1 converts (value 10): email by a champion, email anonymous, web by user
    # journey 2 converts (value 20): email by a champion
    # journey 3 does not convert: web by a contact without role
    return pd.DataFrame(
        {
            "journey_id": [1, 1, 1, 2, 3],
            "touch_order": [1, 2, 3, 1, 1],
            "channel": ["email", "email", "web", "email", "web"],
            "buying_role": ["champion", None, "user", "champion", None],
            "contact_id": ["C1", None, "C2", "C3", "C4"],
            "converted": [True, True, True, True, False],
            "conversion_value": [10.0, 10.0, 10.0, 20.0, 0.0],
        }
    )


def test_touch_roles_tell_anonymous_from_unknown():
    assert list(touch_roles(role_touches())) == ["champion", "anonymous", "user", "champion", "unknown"]


def test_paths_from_touches():
    paths = paths_from_touches(role_touches())
    assert list(paths["path"]) == ["email", "email > email > web", "web"]
    np.testing.assert_allclose(paths["total_conversions"], [1, 1, 0])
    np.testing.assert_allclose(paths["total_null"], [0, 0, 1])
    np.testing.assert_allclose(paths["total_conversion_value"], [20, 10, 0])


def test_by_role_split_hand_computed():
    # linear: journey 1 gives email 2/3, web 1/3; journey 2 gives email 1 -> email 5/3, web 1/3
    # email role shares: j1 champion 1/2, anonymous 1/2 (weight 1); j2 champion 1 (weight 1)
    #   -> champion (0.5 + 1) / 2 = 0.75, anonymous 0.25; web: user 1
    out = attribute_by_role(role_touches(), "linear").set_index(["channel", "buying_role"])
    np.testing.assert_allclose(out.loc[("email", "champion"), "credit_conversions"], 5 / 3 * 0.75)
    np.testing.assert_allclose(out.loc[("email", "anonymous"), "credit_conversions"], 5 / 3 * 0.25)
    np.testing.assert_allclose(out.loc[("web", "user"), "credit_conversions"], 1 / 3)
    assert out["credit_conversions"].sum() == pytest.approx(2.0)
    assert out["share"].sum() == pytest.approx(1.0)


def test_by_role_tokens_hand_computed():
    # linear over tokens: j1: email|champion, email|anonymous, web|user 1/3 each; j2: email|champion 1
    out = attribute_by_role(role_touches(), "linear", method="tokens").set_index(["channel", "buying_role"])
    np.testing.assert_allclose(out.loc[("email", "champion"), "credit_conversions"], 4 / 3)
    np.testing.assert_allclose(out.loc[("email", "anonymous"), "credit_value"], 10 / 3)
    with pytest.raises(ConfigError, match="method='x' must be"):
        attribute_by_role(role_touches(), method="x")


def stage_tables():
    touchpoints = pd.DataFrame(
        {
            "account_id": ["A", "A", "A", "A", "B", "A"],
            "timestamp": [T0 + pd.Timedelta(days=d) for d in (1, 5, 10, 12, 6, 30)],
            "channel": ["web", "email", "sales", "demo", "event", "email"],
        }
    )
    opportunities = pd.DataFrame({"opportunity_id": ["O1", "O2"], "account_id": ["A", "B"],
                                  "amount": [100.0, 50.0]})
    stages = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O1", "O1", "O2", "O2"],
            "stage": ["qualification", "discovery", "closed_won", "qualification", "closed_lost"],
            "entered_at": [T0 + pd.Timedelta(days=d) for d in (2, 10, 20, 3, 9)],
        }
    )
    accounts = pd.DataFrame({"account_id": ["A", "B"], "abm_tier": ["one_to_one", "none"]})
    return touchpoints, opportunities, stages, accounts


def test_stage_transitions_linear_and_last_touch():
    tp, opp, st, _ = stage_tables()
    # O1 qualification(2) -> discovery(10]: email day 5, sales day 10 -> 1/2 each
    # O1 discovery(10) -> closed_won(20]: demo day 12 -> 1; O2 -> closed_lost skipped
    out = attribute_by_stage(tp, opp, st).set_index(["from_stage", "to_stage", "channel"])
    np.testing.assert_allclose(out.loc[("qualification", "discovery", "email"), "credit_conversions"], 0.5)
    np.testing.assert_allclose(out.loc[("qualification", "discovery", "sales"), "credit_value"], 50.0)
    np.testing.assert_allclose(out.loc[("discovery", "closed_won", "demo"), "share"], 1.0)
    assert "closed_lost" not in out.index.get_level_values("to_stage")
    last = attribute_by_stage(tp, opp, st, rule="last_touch").set_index(["from_stage", "to_stage", "channel"])
    assert last.loc[("qualification", "discovery", "sales"), "credit_conversions"] == 1.0
    assert ("qualification", "discovery", "email") not in last.index


def test_stage_transitions_by_tier_and_lost_moves():
    tp, opp, st, acc = stage_tables()
    out = attribute_by_stage(tp, opp, st, include_lost=True, accounts=acc, by="abm_tier")
    lost = out[out["to_stage"] == "closed_lost"]
    # O2 qualification(3) -> closed_lost(9]: event day 6
    assert list(lost["abm_tier"]) == ["none"] and list(lost["channel"]) == ["event"]
    np.testing.assert_allclose(out.groupby(["abm_tier", "from_stage", "to_stage"])["share"].sum(), 1.0)
    with pytest.raises(ConfigError, match="rule='first' must be"):
        attribute_by_stage(tp, opp, st, rule="first")


def test_stage_transition_without_touches_is_counted():
    tp, opp, st, _ = stage_tables()
    tp = tp[tp["timestamp"] != T0 + pd.Timedelta(days=12)]  # discovery -> closed_won now has no touch
    out = attribute_by_stage(tp, opp, st)
    assert not (out["to_stage"] == "closed_won").any()
    assert out["transitions_without_touches"].max() == 0  # only rows with credit are listed
    summary = out.attrs["transitions"].set_index("to_stage")
    assert summary.loc["closed_won", "transitions_without_touches"] == 1


def sliced_table():
    return pd.concat(
        [
            small_table().assign(abm_tier="one_to_one", segment="ent"),
            small_table().assign(abm_tier="none", segment="smb"),
            small_table().assign(abm_tier="one_to_many", segment="smb",
                                 total_conversions=0, total_conversion_value=0.0),
        ],
        ignore_index=True,
    )


def test_slices_without_conversions_are_skipped_and_listed():
    result = attribute(sliced_table(), ["linear", "markov"], by=["segment", "abm_tier"])
    assert set(result["abm_tier"]) == {"one_to_one", "none"}
    assert result.attrs["skipped_slices"] == [{"segment": "smb", "abm_tier": "one_to_many"}]
    with pytest.raises(DataValidationError, match="no slice"):
        attribute(sliced_table().assign(total_conversions=0, total_conversion_value=0.0), ["linear"], by="segment")


def test_compare_abm_side_by_side():
    table = sliced_table()
    table.loc[table["abm_tier"] == "none", "path"] = ["webinar", "search", "webinar > search", "events", "webinar"]
    out = compare_abm(table, "linear")
    assert list(out.columns[:3]) == ["share_abm", "share_non_abm", "share_diff"]
    assert out["share_abm"].sum() == pytest.approx(1.0) and out["share_non_abm"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(out["share_diff"], out["share_abm"] - out["share_non_abm"])
    assert out.loc["email", "share_non_abm"] == 0.0 and out.loc["webinar", "share_abm"] == 0.0
    assert out.attrs["model"] == "linear"
    with pytest.raises(DataValidationError, match="no non-abm paths"):
        compare_abm(table[table["abm_tier"] != "none"], "linear")


def test_generated_journeys_breakdown_columns():
    from features.journeys import JourneyConfig, build_journeys
    from features.synthetic import generate_dataset

    ds = generate_dataset(150, seed=2)
    cfg = JourneyConfig(breakdowns=("segment", "region", "business_unit", "abm_tier"))
    paths = build_journeys(ds, config=cfg).paths
    result = attribute(paths, ["linear", "shapley"], by=["segment", "abm_tier"])
    assert list(result.columns[:3]) == ["segment", "abm_tier", "model"]
    total = paths["total_conversions"].sum()
    assert result.groupby("model")["credit_conversions"].sum().to_numpy() == pytest.approx([total, total])
