"""summary_from_transactions: the CDNOW sample transactions give the published summary.

Source: the CDNOW sample (Fader & Hardie; 2,357 customers, 39-week
calibration ending 1997-09-30) as shipped in the lifetimes package's
datasets folder (tests/data/PROVENANCE.md): ``CDNOW_sample.txt`` is the
transaction log, ``cdnow_customers_summary_with_transactions.csv`` the
summary used by Fader, Hardie & Lee (2005) and Fader & Hardie (2013), with
recency and T in weeks (days / 7, two decimals) and zbar the mean repeat
transaction value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.errors import DataValidationError, SchemaError
from models.clv import summary_from_transactions

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
        dtype={"date": str},
    )


def test_cdnow_transactions_reproduce_the_published_39_week_summary(transactions):
    summary = summary_from_transactions(
        transactions, "customer_id", "date", "value", observation_end="1997-09-30", freq="D"
    )
    published = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    assert len(summary) == 2357
    assert (summary.index.to_numpy() == published.index.to_numpy()).all()
    assert (summary["frequency"].to_numpy() == published["x"].to_numpy()).all()
    # days -> weeks, published to 2 decimals
    assert (summary["recency"] / 7).to_numpy() == pytest.approx(published["t_x"].to_numpy(), abs=0.0051)
    assert (summary["T"] / 7).to_numpy() == pytest.approx(published["T"].to_numpy(), abs=0.0051)
    assert summary["monetary_value"].to_numpy() == pytest.approx(published["zbar"].to_numpy(), abs=0.0051)
    assert int((summary["frequency"] > 0).sum()) == 946


def test_same_period_purchases_collapse_and_the_first_purchase_is_not_repeat():
    tx = pd.DataFrame(
        {
            "c": ["a", "a", "a", "a", "b", "c", "c"],
            "d": ["2024-01-01", "2024-01-02", "2024-01-15", "2024-01-16", "2024-01-20", "2024-01-08", "2024-03-01"],
            "v": [10.0, 5.0, 20.0, 4.0, 7.0, 3.0, 99.0],
        }
    )
    out = summary_from_transactions(tx, "c", "d", "v", observation_end="2024-01-31", freq="W")
    # a: week 0 (10 + 5), week 2 (20 + 4) -> one repeat worth 24
    assert out.loc["a"].tolist() == [1.0, 2.0, 4.0, 24.0]
    # b: a single purchase -> no repeat, monetary value 0
    assert out.loc["b"].tolist() == [0.0, 0.0, 2.0, 0.0]
    # c: the March purchase is after the observation end and is ignored
    assert out.loc["c"].tolist() == [0.0, 0.0, 3.0, 0.0]
    no_value = summary_from_transactions(tx, "c", "d", observation_end="2024-01-31")
    assert list(no_value.columns) == ["frequency", "recency", "T"]


def test_bad_transactions_are_refused_naming_the_column():
    tx = pd.DataFrame({"c": ["a", "b"], "d": ["2024-01-01", None], "v": [1.0, 2.0]})
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['value'\]"):
        summary_from_transactions(tx, "c", "d", "value")
    with pytest.raises(DataValidationError, match="d is missing at row 1"):
        summary_from_transactions(tx, "c", "d", "v")
    with pytest.raises(DataValidationError, match="v is missing, not a number or infinite at row 0"):
        summary_from_transactions(tx.assign(d="2024-01-01", v=[np.nan, 1.0]), "c", "d", "v")
    with pytest.raises(DataValidationError, match="no transaction on or before observation_end"):
        summary_from_transactions(tx.assign(d="2024-01-01"), "c", "d", observation_end="2023-01-01")
    with pytest.raises(DataValidationError, match="transactions table is empty"):
        summary_from_transactions(tx.iloc[:0], "c", "d")


def test_an_observation_end_that_is_not_a_date_is_refused():
    tx = pd.DataFrame({"c": ["a"], "d": ["2024-01-01"]})
    with pytest.raises(DataValidationError, match="observation_end 'soon' is not a date"):
        summary_from_transactions(tx, "c", "d", observation_end="soon")
