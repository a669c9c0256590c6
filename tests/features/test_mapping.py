"""The mapping file: a Salesforce-style export loads; a bad mapping is refused clearly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.errors import ConfigError, SchemaError
from features.mapping import load_mapping
from features.validation import load_dataset

ROOT = Path(__file__).resolve().parents[2]
SALESFORCE = ROOT / "configs" / "mappings" / "salesforce.yaml"
EXPORT = ROOT / "tests" / "data" / "salesforce_export"


def test_salesforce_style_export_loads_through_the_mapping():
    v = load_dataset(EXPORT, mapping=load_mapping(SALESFORCE), now="2025-01-01")
    accounts = v.tables["accounts"]
    assert accounts["abm_tier"].tolist() == ["one_to_one", "one_to_many", "none"]
    tp = v.tables["touchpoints"]
    # "Webinar Attended" -> channel webinar, signal webinar_attend; values are case-insensitive
    first = tp.set_index("touchpoint_id").loc["00T5g0000T1"]
    assert (first["channel"], first["signal"]) == ("webinar", "webinar_attend")
    assert tp.set_index("touchpoint_id").loc["00T5g0000T4", "signal"] == "email_open"
    assert tp.set_index("touchpoint_id").loc["00T5g0000T1", "timestamp"] == pd.Timestamp("2024-03-01T10:15:00Z")
    assert v.tables["contacts"].set_index("contact_id").loc["0035g00000C4", "buying_role"] == "unknown"
    opp = v.tables["opportunities"].set_index("opportunity_id")
    assert bool(opp.loc["0065g00000O1", "is_won"]) and opp.loc["0065g00000O1", "stage"] == "closed_won"
    assert pd.isna(opp.loc["0065g00000O2", "closed_at"])
    # extra export columns are carried along
    assert "Name" in accounts.columns
    rules = sorted(zip(v.quarantine["file"], v.quarantine["rule"]))
    assert rules == [
        ("Account.csv", "unmapped_value"),
        ("Activity_Export.csv", "not_a_date"),
        ("Activity_Export.csv", "unmapped_value"),
        ("Contact.csv", "orphan_key"),
    ]
    gold = v.quarantine[v.quarantine["file"] == "Account.csv"].iloc[0]
    assert gold["line"] == 5 and gold["value"] == "Gold Tier"
    assert "source value 'Gold Tier' has no entry in the mapping" in gold["reason"]
    for r in v.reports.values():
        assert r.rows_read == r.accepted + r.quarantined


def test_unknown_key_in_mapping_is_refused(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("tables:\n  touchpoints:\n    colums: {touchpoint_id: Id}\n")
    with pytest.raises(ConfigError, match=r"m\.yaml: tables\.touchpoints\.colums: Extra inputs are not permitted"):
        load_mapping(bad)


def test_mapping_to_an_unknown_contract_column_is_refused(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("tables:\n  touchpoints:\n    columns: {touch_id: Id}\n")
    with pytest.raises(ConfigError, match=r"'touch_id' is not a column of touchpoints"):
        load_mapping(bad)


def test_unknown_table_in_mapping_is_refused(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("tables:\n  leads: {}\n")
    with pytest.raises(ConfigError, match=r"unknown table 'leads'"):
        load_mapping(bad)


def test_invalid_yaml(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("tables: [unclosed\n")
    with pytest.raises(ConfigError, match=r"m\.yaml: not valid YAML"):
        load_mapping(bad)


def test_mapped_source_column_missing_from_export(tmp_path):
    for f in EXPORT.iterdir():
        (tmp_path / f.name).write_text(f.read_text().replace("AccountId", "Account_Id", 1) if f.name == "Contact.csv" else f.read_text())
    with pytest.raises(SchemaError, match=r"Contact\.csv: column 'AccountId' named by the mapping is missing"):
        load_dataset(tmp_path, mapping=load_mapping(SALESFORCE), now="2025-01-01")
