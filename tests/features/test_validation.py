"""Every quarantine rule and every table-level error, with its message matched."""

from __future__ import annotations

import re
from pathlib import Path

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from features.errors import InputFileError, SchemaError
from features.validation import QUARANTINE_COLUMNS, load_dataset

NOW = "2025-06-30T00:00:00Z"

ACCOUNTS = """account_id,segment,industry,region,business_unit,abm_tier,annual_revenue
A1,enterprise,tech,NA,bu1,one_to_one,1000000
A2,smb,retail,EMEA,bu2,none,5000
"""
CONTACTS = """contact_id,account_id,buying_role,seniority,department
C1,A1,economic_buyer,c_level,finance
C2,A2,user,manager,it
"""
TOUCHPOINTS = """touchpoint_id,account_id,contact_id,timestamp,channel,signal,campaign_id,asset_id,cost
T1,A1,C1,2024-01-31T10:00:00Z,webinar,webinar_attend,cmp1,as1,10
T2,A1,,2024-02-01T10:00:00Z,intent,intent_surge,,,0
"""
OPPORTUNITIES = """opportunity_id,account_id,created_at,closed_at,stage,is_won,amount
O1,A1,2024-03-01,2024-05-01,closed_won,true,1000
O2,A2,2024-04-01,,discovery,false,
"""


def write(folder: Path, **tables: str) -> Path:
    base = {"accounts": ACCOUNTS, "contacts": CONTACTS, "touchpoints": TOUCHPOINTS, "opportunities": OPPORTUNITIES}
    base.update(tables)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in base.items():
        if text is not None:
            (folder / f"{name}.csv").write_text(text)
    return folder


def one_rejection(folder: Path):
    v = load_dataset(folder, now=NOW)
    assert len(v.quarantine) == 1, v.quarantine
    return v, v.quarantine.iloc[0]


def test_clean_data_is_accepted_with_contract_dtypes(tmp_path):
    v = load_dataset(write(tmp_path), now=NOW)
    assert v.quarantine.empty
    tp = v.tables["touchpoints"]
    assert str(tp["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert tp["cost"].dtype == "float64"
    assert pd.isna(tp.loc[1, "contact_id"])
    opp = v.tables["opportunities"]
    assert opp["is_won"].dtype == bool and opp["is_won"].tolist() == [True, False]
    assert pd.isna(opp.loc[1, "closed_at"]) and pd.isna(opp.loc[1, "amount"])
    for r in v.reports.values():
        assert r.rows_read == r.accepted + r.quarantined


@pytest.mark.parametrize(
    ("table", "line", "rule", "field", "message"),
    [
        ("touchpoints", "T3,A1,C1,2024-13-01,web,web_visit,,,0", "not_a_date", "timestamp",
         r"timestamp '2024-13-01' is not a date \(expected ISO 8601, e\.g\. 2024-01-31T10:00:00Z\)"),
        ("touchpoints", "T3,A1,C1,2031-01-05T00:00:00Z,web,web_visit,,,0", "future_date", "timestamp",
         r"timestamp '2031-01-05T00:00:00Z' is in the future \(after 2025-06-30T00:00:00Z\)"),
        ("touchpoints", "T3,A1,C1,2024-01-05,web,web_visit,,,-3", "negative", "cost",
         r"cost -3(\.0)? is negative \(must be >= 0\)"),
        ("touchpoints", "T3,A1,C1,2024-01-05,web,web_visit,,,1.2.3", "not_a_number", "cost",
         r"cost '1\.2\.3' is not a finite number"),
        ("touchpoints", "T3,A9,C1,2024-01-05,web,web_visit,,,0", "orphan_key", "account_id",
         r"account_id 'A9' has no row in accounts \(orphan key\)"),
        ("touchpoints", "T3,A1,C9,2024-01-05,web,web_visit,,,0", "orphan_key", "contact_id",
         r"contact_id 'C9' has no row in contacts"),
        ("touchpoints", "T1,A1,C1,2024-01-05,web,web_visit,,,0", "duplicate_key", "touchpoint_id",
         r"duplicate touchpoint_id 'T1' \(first seen on line 2\)"),
        ("touchpoints", "T3,A1,C1,2024-01-05,,web_visit,,,0", "missing_value", "channel",
         r"channel is empty \(a value is required\)"),
        ("touchpoints", "T3,A1,C1,2024-01-05,web", "malformed", None,
         r"the line has 5 fields, expected 9"),
        ("accounts", "A3,smb,retail,EMEA,bu2,vip,10", "not_allowed", "abm_tier",
         r"abm_tier 'vip' is not allowed \(must be one of one_to_one, one_to_few, one_to_many, none\)"),
        ("contacts", "C3,A1,janitor,manager,it", "not_allowed", "buying_role",
         r"buying_role 'janitor' is not allowed \(must be one of economic_buyer"),
        ("opportunities", "O3,A1,2024-03-01,2024-02-01,closed_lost,false,10", "date_order", "closed_at",
         r"closed_at is before created_at \(closed_at 2024-02-01 < created_at 2024-03-01\)"),
        ("opportunities", "O3,A1,2024-03-01,,discovery,maybe,10", "not_a_boolean", "is_won",
         r"is_won 'maybe' is not a boolean \(expected true/false, 1/0 or yes/no\)"),
        ("opportunities", "O3,A1,2024-03-01,,discovery,false,-10", "negative", "amount",
         r"amount -10(\.0)? is negative"),
    ],
)
def test_each_row_rule_quarantines_with_its_reason(tmp_path, table, line, rule, field, message):
    texts = {"accounts": ACCOUNTS, "contacts": CONTACTS, "touchpoints": TOUCHPOINTS, "opportunities": OPPORTUNITIES}
    v, row = one_rejection(write(tmp_path, **{table: texts[table] + line + "\n"}))
    assert row["rule"] == rule
    assert row["table"] == table and row["file"] == f"{table}.csv"
    assert row["line"] == texts[table].count("\n") + 1
    assert (row["field"] is None and field is None) or row["field"] == field
    assert re.search(message, row["reason"]), row["reason"]
    assert list(v.quarantine.columns) == QUARANTINE_COLUMNS
    report = v.reports[table]
    assert report.by_rule == {rule: 1}
    assert report.rows_read == report.accepted + 1


def test_quarantine_keeps_the_original_row(tmp_path):
    _, row = one_rejection(write(tmp_path, touchpoints=TOUCHPOINTS + "T3,A1,C1,2024-13-01,web,web_visit,,,0\n"))
    assert '"timestamp": "2024-13-01"' in row["raw"] and '"touchpoint_id": "T3"' in row["raw"]


def test_orphans_of_quarantined_parents_are_quarantined_too(tmp_path):
    accounts = ACCOUNTS + "A3,smb,retail,EMEA,bu2,vip,10\n"
    touch = TOUCHPOINTS + "T3,A3,,2024-01-05,web,web_visit,,,0\n"
    v = load_dataset(write(tmp_path, accounts=accounts, touchpoints=touch), now=NOW)
    assert sorted(v.quarantine["rule"]) == ["not_allowed", "orphan_key"]


def test_a_row_is_quarantined_once_with_its_first_problem(tmp_path):
    _, row = one_rejection(write(tmp_path, touchpoints=TOUCHPOINTS + "T1,A9,C1,2024-13-01,web,web_visit,,,-1\n"))
    assert row["rule"] == "not_a_date"


# ---- table-level problems: one clear error naming the file and column -------


def test_missing_required_column(tmp_path):
    folder = write(tmp_path, touchpoints=TOUCHPOINTS.replace(",channel,", ",chanel,"))
    with pytest.raises(SchemaError, match=r"touchpoints\.csv: required column 'channel' is missing"):
        load_dataset(folder, now=NOW)


def test_missing_required_table(tmp_path):
    folder = write(tmp_path)
    (folder / "touchpoints.csv").unlink()
    with pytest.raises(InputFileError, match=r"required table touchpoints not found .*touchpoints\.csv or touchpoints\.parquet"):
        load_dataset(folder, now=NOW)


def test_empty_file(tmp_path):
    with pytest.raises(InputFileError, match=r"touchpoints\.csv: file is empty"):
        load_dataset(write(tmp_path, touchpoints=""), now=NOW)


def test_header_only_file(tmp_path):
    header = TOUCHPOINTS.splitlines()[0] + "\n"
    with pytest.raises(InputFileError, match=r"touchpoints\.csv: file has a header but no data rows"):
        load_dataset(write(tmp_path, touchpoints=header), now=NOW)


def test_not_a_csv(tmp_path):
    folder = write(tmp_path)
    (folder / "touchpoints.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary")
    with pytest.raises(InputFileError, match=r"touchpoints\.csv: not a (UTF-8 text CSV|readable CSV) file"):
        load_dataset(folder, now=NOW)


def test_broken_parquet(tmp_path):
    folder = write(tmp_path)
    (folder / "touchpoints.csv").unlink()
    (folder / "touchpoints.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(InputFileError, match=r"touchpoints\.parquet: not a readable Parquet file"):
        load_dataset(folder, now=NOW)


def test_duplicate_header_column(tmp_path):
    text = TOUCHPOINTS.replace("cost\n", "cost,cost\n", 1)
    with pytest.raises(SchemaError, match=r"touchpoints\.csv: column 'cost' appears twice"):
        load_dataset(write(tmp_path, touchpoints=text), now=NOW)


def test_missing_folder(tmp_path):
    with pytest.raises(InputFileError, match="data folder not found"):
        load_dataset(tmp_path / "nope", now=NOW)


def test_parquet_input_is_validated_like_csv(tmp_path):
    folder = write(tmp_path)
    frame = pd.read_csv(folder / "touchpoints.csv", dtype=str, keep_default_na=False)
    frame.loc[len(frame)] = ["T3", "A1", "C1", "2031-01-01T00:00:00Z", "web", "web_visit", "", "", "1"]
    (folder / "touchpoints.csv").unlink()
    frame.to_parquet(folder / "touchpoints.parquet")
    v, row = one_rejection(folder)
    assert row["rule"] == "future_date" and row["line"] == 3 and row["file"] == "touchpoints.parquet"


# ---- property: no row is ever lost ------------------------------------------

cell = st.one_of(
    st.sampled_from(["", "A1", "A2", "C1", "x", "-1", "12.5", "2024-02-30", "2024-01-01", "true", "web"]),
    st.text(alphabet="abc,\"' 01-:T", max_size=8),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell, min_size=7, max_size=11), min_size=1, max_size=12))
def test_rows_read_equal_accepted_plus_quarantined(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("prop")
    header = TOUCHPOINTS.splitlines()[0]
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for r in rows:
        writer.writerow(r)
    text = header + "\n" + buf.getvalue()
    write(folder, touchpoints=text)
    v = load_dataset(folder, now=NOW)
    r = v.reports["touchpoints"]
    assert r.rows_read == len(rows)
    assert r.accepted + r.quarantined == len(rows)
    assert (v.quarantine["table"] == "touchpoints").sum() == r.quarantined
    assert v.quarantine["reason"].notna().all()
