"""W-shaped and full-path milestone models on hand-built account journeys.

Weights as defined by Bizible / Marketo Measure ("W-shaped": 30/30/30 + 10;
"full path": 22.5 x 4 + 10); every expected fraction below is worked by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution import FullPath, WShaped, make_model
from features.errors import ConfigError, SchemaError

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def touches_frame(rows):
    """rows: (journey, order, channel, day, signal, contact, opportunity, converted, value)."""
    frame = pd.DataFrame(
        rows,
        columns=["journey_id", "touch_order", "channel", "day", "signal", "contact_id", "opportunity_id",
                 "converted", "conversion_value"],
    )
    frame["timestamp"] = T0 + pd.to_timedelta(frame.pop("day"), unit="D")
    return frame


OPPS = pd.DataFrame(
    {
        "opportunity_id": ["O1", "O2", "O3", "O4"],
        "created_at": [T0 + pd.Timedelta(days=d) for d in (10, 10, 10, 10)],
        "closed_at": [T0 + pd.Timedelta(days=d) for d in (40, 40, 40, 40)],
        "is_won": [True, True, True, False],
    }
)


def fractions(model, rows):
    """Per-journey credit of each channel when every channel appears once per journey."""
    touches = touches_frame(rows)
    model.fit_journeys(touches, OPPS)
    return model.result_.set_index("channel")["credit_conversions"]


def test_w_shaped_five_touches_hand_computed():
    # first a (anonymous web), lead b (content_download by a contact), opportunity creation e
    rows = [
        (1, 1, "a", 1, "web_visit", None, "O1", True, 1.0),
        (1, 2, "b", 2, "content_download", "C1", "O1", True, 1.0),
        (1, 3, "c", 3, "email_open", "C1", "O1", True, 1.0),
        (1, 4, "d", 4, "web_visit", "C2", "O1", True, 1.0),
        (1, 5, "e", 9, "email_open", "C2", "O1", True, 1.0),
    ]
    credit = fractions(WShaped(), rows)
    np.testing.assert_allclose(credit[["a", "b", "c", "d", "e"]], [0.3, 0.3, 0.05, 0.05, 0.3])


def test_missing_lead_goes_to_the_other_milestones():
    # no hand-raiser by a contact (content_download is anonymous): first .45, last .45, middle .1
    rows = [
        (1, 1, "a", 1, "web_visit", None, "O1", True, 1.0),
        (1, 2, "b", 2, "content_download", None, "O1", True, 1.0),
        (1, 3, "c", 9, "email_open", "C1", "O1", True, 1.0),
    ]
    credit = fractions(WShaped(), rows)
    np.testing.assert_allclose(credit[["a", "b", "c"]], [0.45, 0.1, 0.45])
    assert WShaped().fit_journeys(touches_frame(rows), OPPS).milestone_coverage_ == {
        "first": 1.0, "lead": 0.0, "opportunity": 1.0}


def test_coinciding_milestones_add_and_no_other_touch_renormalises():
    # two touches, the first is also the lead: t1 = (.3 + .3) / .9, t2 = .3 / .9
    rows = [
        (1, 1, "a", 1, "webinar_register", "C1", "O1", True, 1.0),
        (1, 2, "b", 9, "email_open", "C1", "O1", True, 1.0),
        (2, 1, "c", 5, "demo_request", "C1", "O2", True, 1.0),  # one touch: 100 %
    ]
    credit = fractions(WShaped(), rows)
    np.testing.assert_allclose(credit[["a", "b", "c"]], [2 / 3, 1 / 3, 1.0])


def test_lead_after_opportunity_creation_does_not_count():
    # closed-won style journey: the hand-raiser comes after created_at (day 10)
    rows = [
        (1, 1, "a", 1, "web_visit", None, "O1", True, 1.0),
        (1, 2, "b", 5, "email_open", "C1", "O1", True, 1.0),
        (1, 3, "c", 20, "content_download", "C1", "O1", True, 1.0),
        (1, 4, "d", 30, "sales_meeting", "C1", "O1", True, 1.0),
    ]
    credit = fractions(WShaped(), rows)
    # milestones: first a, opportunity b (last touch <= day 10), lead missing -> .45/.45, c and d .05
    np.testing.assert_allclose(credit[["a", "b", "c", "d"]], [0.45, 0.45, 0.05, 0.05])


def test_full_path_closed_won_journey_hand_computed():
    rows = [
        (1, 1, "a", 1, "web_visit", None, "O1", True, 100.0),
        (1, 2, "b", 3, "event_attend", "C1", "O1", True, 100.0),
        (1, 3, "c", 8, "email_open", "C1", "O1", True, 100.0),
        (1, 4, "d", 20, "email_open", "C1", "O1", True, 100.0),
        (1, 5, "e", 35, "sales_meeting", "C2", "O1", True, 100.0),
    ]
    model = FullPath().fit_journeys(touches_frame(rows), OPPS)
    credit = model.result_.set_index("channel")
    # first a, lead b, opportunity c, won e: .225 each, d the other touch .1
    np.testing.assert_allclose(credit.loc[["a", "b", "c", "d", "e"], "credit_conversions"],
                               [0.225, 0.225, 0.225, 0.1, 0.225])
    np.testing.assert_allclose(credit["credit_value"].sum(), 100.0)


def test_full_path_without_won_milestone_and_non_converting_journeys():
    rows = [
        (1, 1, "a", 1, "web_visit", None, "O4", True, 1.0),  # O4 is lost: no won milestone
        (1, 2, "b", 9, "email_open", "C1", "O4", True, 1.0),
        (2, 1, "c", 2, "web_visit", None, None, False, 0.0),  # non-converting: no credit
    ]
    model = FullPath().fit_journeys(touches_frame(rows), OPPS)
    credit = model.result_.set_index("channel")["credit_conversions"]
    # first a (.225), opportunity b (.225): scaled to 1/2 each (no other touch)
    np.testing.assert_allclose(credit[["a", "b", "c"]], [0.5, 0.5, 0.0])
    assert model.result_["credit_conversions"].sum() == pytest.approx(1.0)


def test_path_table_is_refused_with_the_way_out():
    from tests.attribution.contract import small_table

    with pytest.raises(ConfigError, match="fit_journeys"):
        make_model("w_shaped").fit(small_table())


def test_bad_weights_and_missing_columns():
    with pytest.raises(ConfigError, match="must be >= 0 with 0 < sum <= 1"):
        WShaped(first=0.6, lead=0.6).fit_journeys(touches_frame([]), OPPS)
    with pytest.raises(SchemaError, match="no column 'signal'"):
        WShaped().fit_journeys(touches_frame([(1, 1, "a", 1, "x", None, "O1", True, 1.0)]).drop(columns="signal"), OPPS)


def test_on_generated_journeys_credits_sum_and_bootstrap_is_seeded():
    from features.journeys import build_journeys
    from features.synthetic import generate_dataset

    ds = generate_dataset(120, seed=4)
    journeys = build_journeys(ds)
    a = WShaped(ci=0.9, n_boot=10, random_state=1).fit_journeys(journeys.touches, ds.tables["opportunities"])
    b = WShaped(ci=0.9, n_boot=10, random_state=1).fit_journeys(journeys.touches, ds.tables["opportunities"])
    pd.testing.assert_frame_equal(a.result_, b.result_)
    assert a.result_["credit_conversions"].sum() == pytest.approx(journeys.paths["total_conversions"].sum())
    assert a.milestone_coverage_["first"] == 1.0 and a.milestone_coverage_["opportunity"] == 1.0
