"""Validation that loses nothing: every row is accepted or quarantined with a reason.

For each table, in dependency order (``contracts.TABLE_ORDER``), rows go
through these checks; a row is quarantined with the *first* rule it breaks:

==================  ======================================================
rule                meaning
==================  ======================================================
``malformed``       the CSV line could not be split into the header's fields
``unmapped_value``  a mapped column's source value has no entry in the mapping
``missing_value``   a required cell is empty
``not_a_date``      a date cell is not ISO 8601
``not_a_number``    a number cell does not parse (or is NaN / infinite)
``not_a_boolean``   a flag is not true/false, 1/0, yes/no
``not_allowed``     a value outside the contract's allowed set (abm_tier, ...)
``negative``        a cost, amount or value below zero
``future_date``     a timestamp after the validation time
``date_order``      e.g. closed_at before created_at
``duplicate_key``   a primary key seen on an earlier line (the first is kept)
``orphan_key``      a foreign key with no accepted parent row
==================  ======================================================

``rows read = rows accepted + rows quarantined`` is checked on every load;
breaking it is a bug and raises ``AssertionError``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from features.contracts import CONTRACTS, TABLE_ORDER, TableContract
from features.loading import RawTable, read_raw_tables
from features.mapping import IDENTITY, Mapping

__all__ = [
    "QUARANTINE_COLUMNS",
    "TableReport",
    "ValidatedData",
    "validate_tables",
    "load_dataset",
]

log = logging.getLogger(__name__)

QUARANTINE_COLUMNS = ["table", "file", "line", "field", "rule", "reason", "value", "raw"]
ISO_HINT = "expected ISO 8601, e.g. 2024-01-31T10:00:00Z"
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_MIN_YEAR, _MAX_YEAR = 1900, 2261  # nanosecond timestamps end in 2262


@dataclass
class TableReport:
    """What happened to one table's rows."""

    table: str
    file: str
    rows_read: int
    accepted: int
    quarantined: int
    by_rule: dict[str, int] = field(default_factory=dict)


@dataclass
class ValidatedData:
    """Clean tables, the quarantine, and a report per table."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    reports: dict[str, TableReport]

    def summary(self) -> pd.DataFrame:
        rows = [
            {
                "table": r.table,
                "file": r.file,
                "rows_read": r.rows_read,
                "accepted": r.accepted,
                "quarantined": r.quarantined,
                "by_rule": ", ".join(f"{k}={v}" for k, v in sorted(r.by_rule.items())),
            }
            for r in self.reports.values()
        ]
        return pd.DataFrame(rows, columns=["table", "file", "rows_read", "accepted", "quarantined", "by_rule"])

    def write_quarantine(self, out_dir: str | Path) -> Path:
        """Write ``quarantine.csv`` and ``validation_summary.csv``; returns the former."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.quarantine.to_csv(out / "quarantine.csv", index=False)
        self.summary().to_csv(out / "validation_summary.csv", index=False)
        return out / "quarantine.csv"


def _is_texty(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s) or s.dtype == object


def _as_text(s: pd.Series) -> pd.Series:
    """Cells as stripped strings, missing cells as ''."""
    if not _is_texty(s):
        s = s.astype("str").where(s.notna(), "")
    return s.fillna("").astype("str").str.strip()


def _fmt(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


class _TableCheck:
    """Accumulates the first failure of each row of one table."""

    def __init__(self, raw: RawTable, contract: TableContract) -> None:
        self.raw = raw
        self.contract = contract
        n = len(raw.frame)
        self.alive = np.ones(n, dtype=bool)
        self.field = np.empty(n, dtype=object)
        self.rule = np.empty(n, dtype=object)
        self.reason = np.empty(n, dtype=object)
        self.value = np.empty(n, dtype=object)

    def reject(self, mask: np.ndarray | pd.Series, column: str, rule: str, message) -> None:
        """Quarantine rows in ``mask`` that are still alive.

        ``message`` is a function of the offending value giving the reason.
        """
        mask = np.asarray(mask, dtype=bool) & self.alive
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        cells = self.raw.frame[column].to_numpy()[idx] if column in self.raw.frame else [None] * len(idx)
        self.field[idx] = column
        self.rule[idx] = rule
        self.value[idx] = [None if (c is None or (isinstance(c, float) and np.isnan(c))) else str(c) for c in cells]
        self.reason[idx] = [message(c) for c in cells]
        self.alive[idx] = False

    def reject_with(self, mask: np.ndarray, column: str, rule: str, reasons: list[str], values: list) -> None:
        """Like :meth:`reject` with precomputed reasons for the rows in ``mask``."""
        mask = np.asarray(mask, dtype=bool)
        idx = np.flatnonzero(mask)
        keep = self.alive[idx]
        idx = idx[keep]
        if len(idx) == 0:
            return
        self.field[idx] = column
        self.rule[idx] = rule
        self.reason[idx] = [r for r, k in zip(reasons, keep) if k]
        self.value[idx] = [v for v, k in zip(values, keep) if k]
        self.alive[idx] = False


def _parse_columns(check: _TableCheck) -> pd.DataFrame:
    """Parse every contract column by its kind; quarantine what does not parse."""
    frame, contract = check.raw.frame, check.contract
    typed: dict[str, pd.Series] = {}
    for column, kind in contract.kinds.items():
        src = frame[column]
        nullable = contract.nullable(column)
        if kind == "datetime" and pd.api.types.is_datetime64_any_dtype(src):
            parsed = src.dt.tz_localize("UTC") if src.dt.tz is None else src.dt.tz_convert("UTC")
            empty = parsed.isna().to_numpy()
            bad = np.zeros(len(src), dtype=bool)
        elif kind == "float" and pd.api.types.is_numeric_dtype(src) and not pd.api.types.is_bool_dtype(src):
            parsed = src.astype("float64")
            empty = parsed.isna().to_numpy()
            bad = ~np.isfinite(parsed.fillna(0).to_numpy())
        elif kind == "bool" and pd.api.types.is_bool_dtype(src):
            parsed = src.astype("boolean")
            empty = parsed.isna().to_numpy()
            bad = np.zeros(len(src), dtype=bool)
        else:
            text = _as_text(src)
            empty = (text == "").to_numpy()
            if kind == "datetime":
                parsed = pd.to_datetime(text.where(~empty), format="ISO8601", utc=True, errors="coerce")
                years = parsed.dt.year
                bad = ~empty & (parsed.isna() | (years < _MIN_YEAR) | (years > _MAX_YEAR)).to_numpy()
                parsed = parsed.where(~bad)
            elif kind == "float":
                parsed = pd.to_numeric(text.where(~empty), errors="coerce").astype("float64")
                bad = ~empty & ~np.isfinite(parsed.fillna(np.inf).to_numpy())
            elif kind == "bool":
                low = text.str.casefold()
                parsed = pd.Series(pd.NA, index=text.index, dtype="boolean")
                parsed[low.isin(_TRUE)] = True
                parsed[low.isin(_FALSE)] = False
                bad = ~empty & parsed.isna().to_numpy()
            else:
                parsed = text.where(~empty)
                bad = np.zeros(len(src), dtype=bool)
        if not nullable:
            check.reject(empty, column, "missing_value", lambda v, c=column: f"{c} is empty (a value is required)")
        if kind == "datetime":
            check.reject(bad, column, "not_a_date", lambda v, c=column: f"{c} {_fmt(v)} is not a date ({ISO_HINT})")
            parsed = parsed.astype("datetime64[ns, UTC]")
        elif kind == "float":
            check.reject(bad, column, "not_a_number", lambda v, c=column: f"{c} {_fmt(v)} is not a finite number (e.g. 1250.50, no thousands separators)")
        elif kind == "bool":
            check.reject(bad, column, "not_a_boolean", lambda v, c=column: f"{c} {_fmt(v)} is not a boolean (expected true/false, 1/0 or yes/no)")
        typed[column] = parsed
    out = pd.DataFrame(typed, index=frame.index)
    for column, kind in contract.kinds.items():
        if kind == "bool":  # a missing flag was quarantined unless nullable; keep plain bool
            out[column] = out[column].fillna(False).astype(bool)
    return out


def _allowed_values(schema: pa.DataFrameSchema, column: str) -> str:
    for chk in schema.columns[column].checks:
        allowed = chk.statistics.get("allowed_values")
        if allowed is not None:
            return ", ".join(map(str, allowed))
    return ""


def _value_checks(check: _TableCheck, typed: pd.DataFrame) -> None:
    """Run the pandera schema on parsed rows; quarantine rows it rejects."""
    schema = check.contract.schema
    alive_idx = np.flatnonzero(check.alive)
    subset = typed.iloc[alive_idx]
    try:
        schema.validate(subset, lazy=True)
        return
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = cases[cases["index"].notna() & cases["column"].isin(list(schema.columns))]
    for (column, chk), group in cases.groupby(["column", "check"], sort=True):
        mask = np.zeros(len(typed), dtype=bool)
        mask[typed.index.get_indexer(group["index"].astype(np.int64))] = True
        chk = str(chk)
        if "isin" in chk or "must be one of" in chk:
            allowed = _allowed_values(schema, column)
            check.reject(mask, column, "not_allowed", lambda v, c=column, a=allowed: f"{c} {_fmt(v)} is not allowed (must be one of {a})")
        elif "greater_than_or_equal_to" in chk or "negative" in chk:
            check.reject(mask, column, "negative", lambda v, c=column: f"{c} {v} is negative (must be >= 0)")
        elif "not_nullable" in chk:
            check.reject(mask, column, "missing_value", lambda v, c=column: f"{c} is empty (a value is required)")
        else:  # a check added to a contract later: report it by name
            check.reject(mask, column, "invalid", lambda v, c=column, k=chk: f"{c} {_fmt(v)} fails check {k}")


def _date_checks(check: _TableCheck, typed: pd.DataFrame, now: pd.Timestamp) -> None:
    for column in check.contract.no_future:
        future = (typed[column] > now).fillna(False).to_numpy()
        check.reject(future, column, "future_date", lambda v, c=column: f"{c} {_fmt(v)} is in the future (after {now:%Y-%m-%dT%H:%M:%SZ})")
    for rule in check.contract.row_rules:
        broken = (typed[rule.later] < typed[rule.earlier]).fillna(False).to_numpy()
        if broken.any():
            idx = np.flatnonzero(broken)
            earlier = typed[rule.earlier].to_numpy()[idx]
            later = typed[rule.later].to_numpy()[idx]
            reasons = [
                f"{rule.reason} ({rule.later} {pd.Timestamp(b):%Y-%m-%d} < {rule.earlier} {pd.Timestamp(a):%Y-%m-%d})"
                for a, b in zip(earlier, later)
            ]
            check.reject_with(broken, rule.later, "date_order", reasons, [str(pd.Timestamp(b)) for b in later])


def _key_checks(check: _TableCheck, typed: pd.DataFrame, accepted: dict[str, pd.DataFrame]) -> None:
    contract, raw = check.contract, check.raw
    pk = list(contract.primary_key)
    if pk:
        alive = pd.Series(check.alive, index=typed.index)
        keys = typed.loc[alive.to_numpy(), pk]
        dup = keys.duplicated(keep="first")
        if dup.any():
            first_line = (
                pd.Series(raw.lines[alive.to_numpy()], index=keys.index)
                .groupby([keys[c] for c in pk], sort=False)
                .transform("first")
            )
            mask = np.zeros(len(typed), dtype=bool)
            mask[typed.index.get_indexer(dup.index[dup.to_numpy()])] = True
            lines = first_line[dup].to_numpy()
            vals = keys[dup].astype(str).agg("/".join, axis=1).to_list()
            name = "/".join(pk)
            reasons = [f"duplicate {name} {v!r} (first seen on {raw.line_label} {ln:,})" for v, ln in zip(vals, lines)]
            check.reject_with(mask, pk[0], "duplicate_key", reasons, vals)
    for fk in contract.foreign_keys:
        parent = accepted.get(fk.table)
        if parent is None:
            log.warning("%s: %s not checked (table %s absent)", raw.file, fk.column, fk.table)
            continue
        values = typed[fk.column]
        orphan = (values.notna() & ~values.isin(parent[fk.ref_column])).to_numpy()
        check.reject(orphan, fk.column, "orphan_key", lambda v, f=fk: f"{f.column} {_fmt(v)} has no row in {f.table} (orphan key)")


def _validate_table(raw: RawTable, accepted: dict[str, pd.DataFrame], now: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame, TableReport]:
    contract = CONTRACTS[raw.name]
    check = _TableCheck(raw, contract)
    for column, source in raw.unmapped.items():
        check.reject(
            source.notna().to_numpy(),
            column,
            "unmapped_value",
            lambda v, c=column: f"{c}: source value has no entry in the mapping's values.{c}.map",
        )
        # the offending cell is the source value, not the (empty) mapped one
        idx = np.flatnonzero((check.rule == "unmapped_value") & (check.field == column))
        check.value[idx] = source.to_numpy()[idx]
        check.reason[idx] = [f"{column}: source value {v!r} has no entry in the mapping (add it under values.{column}.map)" for v in source.to_numpy()[idx]]
    typed = _parse_columns(check)
    _value_checks(check, typed)
    _date_checks(check, typed, now)
    _key_checks(check, typed, accepted)

    extras = [c for c in raw.frame.columns if c not in contract.kinds]
    clean = typed.loc[check.alive]
    if extras:
        clean = pd.concat([clean, raw.frame.loc[check.alive, extras]], axis=1)
    clean = clean.reset_index(drop=True)

    dead = np.flatnonzero(~check.alive)
    raw_rows = raw.frame.iloc[dead]
    quarantine = pd.DataFrame(
        {
            "table": raw.name,
            "file": raw.file,
            "line": raw.lines[dead],
            "field": check.field[dead],
            "rule": check.rule[dead],
            "reason": check.reason[dead],
            "value": check.value[dead],
            "raw": [json.dumps({str(k): (None if pd.isna(v) else str(v)) for k, v in row.items()}) for row in raw_rows.to_dict("records")],
        },
        columns=QUARANTINE_COLUMNS,
    )
    if raw.malformed:
        malformed = pd.DataFrame(
            {
                "table": raw.name,
                "file": raw.file,
                "line": [m.line for m in raw.malformed],
                "field": None,
                "rule": "malformed",
                "reason": [f"the line {m.reason}" for m in raw.malformed],
                "value": None,
                "raw": [m.text for m in raw.malformed],
            },
            columns=QUARANTINE_COLUMNS,
        )
        quarantine = pd.concat([malformed, quarantine], ignore_index=True).sort_values("line", kind="stable", ignore_index=True)
    report = TableReport(
        table=raw.name,
        file=raw.file,
        rows_read=raw.rows_read,
        accepted=len(clean),
        quarantined=len(quarantine),
        by_rule=dict(Counter(quarantine["rule"])),
    )
    assert report.rows_read == report.accepted + report.quarantined, (
        f"{raw.file}: {report.rows_read} rows read but {report.accepted} accepted + "
        f"{report.quarantined} quarantined; a row was lost (this is a bug)"
    )
    return clean, quarantine, report


def validate_tables(raw_tables: dict[str, RawTable], *, now: pd.Timestamp | str | None = None) -> ValidatedData:
    """Validate raw tables against their contracts (see module docstring).

    Parameters
    ----------
    raw_tables : tables as read by :func:`features.loading.read_raw_tables`.
    now : timestamps after this are ``future_date``; default: the current time.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if now.tzinfo is None:
        now = now.tz_localize("UTC")
    accepted: dict[str, pd.DataFrame] = {}
    quarantines: list[pd.DataFrame] = []
    reports: dict[str, TableReport] = {}
    for name in TABLE_ORDER:
        if name not in raw_tables:
            continue
        clean, quarantine, report = _validate_table(raw_tables[name], accepted, now)
        accepted[name] = clean
        quarantines.append(quarantine)
        reports[name] = report
        log.info("%s: %d read, %d accepted, %d quarantined", report.file, report.rows_read, report.accepted, report.quarantined)
    quarantine = (
        pd.concat(quarantines, ignore_index=True) if quarantines else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    return ValidatedData(tables=accepted, quarantine=quarantine, reports=reports)


def load_dataset(
    data_dir: str | Path, *, mapping: Mapping = IDENTITY, now: pd.Timestamp | str | None = None
) -> ValidatedData:
    """Read every table in ``data_dir`` (through ``mapping``) and validate it."""
    return validate_tables(read_raw_tables(data_dir, mapping), now=now)
