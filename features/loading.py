"""Reading input files into raw tables, and applying a mapping.

A data folder holds ``<table>.csv`` or ``<table>.parquet`` for each table of
the contracts (or the file a mapping names). Reading never guesses types: CSV
cells stay strings (the validator parses them with rules it can explain), and
every row keeps the line of the file it came from, so that a rejected row can
be found again. Rows a CSV parser cannot split (wrong number of fields) are
not dropped: they come back as ``malformed`` rows for the quarantine.

Table-level problems (no such file, unreadable, not CSV/Parquet, empty, a
required column missing) raise :class:`~features.errors.InputFileError` or
:class:`~features.errors.SchemaError` naming the file and the column.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features.contracts import CONTRACTS, REQUIRED_TABLES, TABLE_ORDER
from features.errors import InputFileError, SchemaError
from features.mapping import IDENTITY, Mapping, TableMapping

__all__ = ["RawTable", "MalformedRow", "read_table_file", "read_raw_tables", "find_table_file"]

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class MalformedRow:
    line: int | None
    text: str
    reason: str


@dataclass
class RawTable:
    """One table as read: cells as in the file, plus where each row came from."""

    name: str
    file: str
    frame: pd.DataFrame
    #: 1-based line in a CSV (header is line 1) or 1-based row in Parquet.
    lines: np.ndarray
    malformed: list[MalformedRow] = field(default_factory=list)
    #: source value of a mapped column for rows whose value had no mapping
    unmapped: dict[str, pd.Series] = field(default_factory=dict)
    line_label: str = "line"

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.malformed)


def find_table_file(data_dir: Path, table: str, tmap: TableMapping) -> Path | None:
    """The file holding ``table`` in ``data_dir``, or ``None`` when absent."""
    if tmap.file is not None:
        path = data_dir / tmap.file
        if not path.exists():
            raise InputFileError(f"{tmap.file}: file named by the mapping for {table} not found in the data folder")
        return path
    for suffix in SUFFIXES:
        path = data_dir / f"{table}{suffix}"
        if path.exists():
            return path
    return None


def _read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[MalformedRow]]:
    if path.stat().st_size == 0:
        raise InputFileError(f"{path.name}: file is empty (expected a header line and rows)")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise InputFileError(f"{path.name}: not a UTF-8 text CSV file; export as CSV (UTF-8) or Parquet") from None
    if not header or all(not h.strip() for h in header):
        raise InputFileError(f"{path.name}: file has no header line")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise SchemaError(f"{path.name}: column {dup!r} appears twice in the header")

    bad: list[MalformedRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(
            MalformedRow(
                line=row.number,
                text=row.text,
                reason=f"has {row.actual_columns} fields, expected {row.expected_columns}",
            )
        )
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        msg = str(exc).splitlines()[0]
        raise InputFileError(f"{path.name}: not a readable CSV file ({msg})") from None
    frame = table.to_pandas()
    n_total = len(frame) + len(bad)
    bad_lines = np.array(sorted(b.line for b in bad if b.line is not None), dtype=np.int64)
    lines = np.setdiff1d(np.arange(2, n_total + 2, dtype=np.int64), bad_lines, assume_unique=True)
    if len(lines) != len(frame):  # line numbers unknown (should not happen single-threaded)
        lines = np.arange(2, len(frame) + 2, dtype=np.int64)
    return frame, lines, bad


def _read_parquet(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[MalformedRow]]:
    if path.stat().st_size == 0:
        raise InputFileError(f"{path.name}: file is empty (expected a Parquet file)")
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        msg = str(exc).splitlines()[0]
        raise InputFileError(f"{path.name}: not a readable Parquet file ({msg})") from None
    return frame, np.arange(1, len(frame) + 1, dtype=np.int64), []


def read_table_file(path: str | Path) -> tuple[pd.DataFrame, np.ndarray, list[MalformedRow]]:
    """Read one CSV or Parquet file: (frame, line numbers, malformed rows)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path.name}: file not found")
    if path.suffix.lower() not in SUFFIXES:
        raise InputFileError(f"{path.name}: not a CSV or Parquet file (expected .csv or .parquet)")
    if path.is_dir():
        raise InputFileError(f"{path.name}: is a folder, expected a CSV or Parquet file")
    try:
        reader = _read_csv if path.suffix.lower() == ".csv" else _read_parquet
        return reader(path)
    except PermissionError:
        raise InputFileError(f"{path.name}: file is not readable (permission denied)") from None


def _norm(values: pd.Series) -> pd.Series:
    return values.astype("str").str.strip().str.casefold()


def _apply_mapping(raw: RawTable, tmap: TableMapping) -> RawTable:
    frame = raw.frame
    missing_sources = [src for src in tmap.columns.values() if src not in frame.columns]
    missing_sources += [vm.source for vm in tmap.values.values() if vm.source not in frame.columns]
    if missing_sources:
        raise SchemaError(
            f"{raw.file}: column {missing_sources[0]!r} named by the mapping is missing "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
    out = frame.rename(columns={src: dst for dst, src in tmap.columns.items()})
    # a source column renamed above but also feeding a value map stays available
    value_sources = {vm.source for vm in tmap.values.values()}
    for src in value_sources & set(tmap.columns.values()):
        out[src] = frame[src]
    unmapped: dict[str, pd.Series] = {}
    for dst, vm in tmap.values.items():
        source = frame[vm.source]
        if vm.ignore_case:
            lookup = {str(k).strip().casefold(): v for k, v in vm.map.items()}
            key = _norm(source)
        else:
            lookup = dict(vm.map)
            key = source.astype("str")
        mapped = key.map(lookup)
        missing = mapped.isna() & source.notna()
        if vm.unmapped == "keep":
            mapped = mapped.where(~missing, source.astype("str"))
        elif missing.any():
            unmapped[dst] = source.astype("str").where(missing)
        out[dst] = mapped.astype("str").where(mapped.notna(), "")
    for dst, value in tmap.constants.items():
        if dst not in out.columns:
            out[dst] = value
    return RawTable(
        name=raw.name,
        file=raw.file,
        frame=out,
        lines=raw.lines,
        malformed=raw.malformed,
        unmapped=unmapped,
        line_label=raw.line_label,
    )


def read_raw_tables(
    data_dir: str | Path, mapping: Mapping = IDENTITY, tables: tuple[str, ...] = TABLE_ORDER
) -> dict[str, RawTable]:
    """Read every table present in ``data_dir`` (required ones must be there).

    Raises
    ------
    InputFileError
        The folder is missing, a required table has no file, or a file is
        unreadable / empty / of another format.
    SchemaError
        A required column is missing (after the mapping is applied).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputFileError(f"{data_dir.name or data_dir}: data folder not found")
    out: dict[str, RawTable] = {}
    for name in tables:
        tmap = mapping.for_table(name)
        path = find_table_file(data_dir, name, tmap)
        if path is None:
            if name in REQUIRED_TABLES:
                raise InputFileError(
                    f"{name}.csv: required table {name} not found in the data folder "
                    f"(expected {name}.csv or {name}.parquet)"
                )
            continue
        frame, lines, malformed = read_table_file(path)
        raw = RawTable(
            name=name,
            file=path.name,
            frame=frame,
            lines=lines,
            malformed=malformed,
            line_label="line" if path.suffix.lower() == ".csv" else "row",
        )
        raw = _apply_mapping(raw, tmap)
        if raw.rows_read == 0:
            raise InputFileError(f"{path.name}: file has a header but no data rows")
        missing = [c for c in CONTRACTS[name].required_columns if c not in raw.frame.columns]
        if missing:
            raise SchemaError(
                f"{path.name}: required column {missing[0]!r} is missing"
                + (f" (and {', '.join(map(repr, missing[1:]))})" if len(missing) > 1 else "")
                + "; rename it in the file or map it with --mapping"
            )
        log.info("read %s: %d rows", path.name, raw.rows_read)
        out[name] = raw
    return out
