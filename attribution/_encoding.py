"""Integer coding of a path table: the form every attribution model works on.

A path table (DESIGN.md; ChannelAttribution's interchange format) has one row
per distinct path with ``path`` (channels joined by a separator),
``total_conversions``, ``total_null`` and ``total_conversion_value``. Models
never loop over strings: :func:`encode_paths` turns the table into

* ``channels``: the sorted channel names, code ``k`` is ``channels[k]``;
* ``offsets`` (n_paths + 1,) int64 and ``codes`` (n_touches,) int32, a CSR
  layout: path ``i`` is ``codes[offsets[i]:offsets[i + 1]]`` in touch order;
* ``conversions``, ``nulls``, ``values`` (n_paths,) float64 weights (fractional
  conversion counts are allowed).

Channel codes follow the sorted channel names, so renaming or reordering
channels in the input only permutes codes and never changes a result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.errors import DataValidationError, SchemaError

__all__ = ["EncodedPaths", "encode_paths", "PATH_COLUMNS"]

PATH_COLUMNS = {
    "path": "path",
    "conversions": "total_conversions",
    "nulls": "total_null",
    "value": "total_conversion_value",
}


@dataclass(frozen=True)
class EncodedPaths:
    """A path table as integer-coded arrays (see module docstring)."""

    channels: tuple[str, ...]
    offsets: np.ndarray
    codes: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    values: np.ndarray

    @property
    def n_paths(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def path(self, i: int) -> list[str]:
        """Channel names of path ``i`` (for messages and tests, not hot loops)."""
        return [self.channels[c] for c in self.codes[self.offsets[i] : self.offsets[i + 1]]]

    def with_weights(
        self, conversions: np.ndarray, nulls: np.ndarray, values: np.ndarray
    ) -> "EncodedPaths":
        """Same paths, new per-path weights (used by the bootstrap)."""
        return EncodedPaths(
            self.channels, self.offsets, self.codes, conversions, nulls, values
        )


def _split_paths(paths: pd.Series, sep: str) -> list[list[str]]:
    pattern = re.compile(r"\s*" + re.escape(sep.strip() or sep) + r"\s*")
    return [pattern.split(p.strip()) for p in paths]


def encode_paths(
    table: pd.DataFrame,
    *,
    path_col: str = "path",
    conv_col: str = "total_conversions",
    null_col: str | None = "total_null",
    value_col: str | None = "total_conversion_value",
    sep: str = ">",
    model: str = "attribution",
) -> EncodedPaths:
    """Validate a path table and code it as integer arrays.

    Parameters
    ----------
    table : DataFrame, one row per path (duplicated paths are summed).
    path_col, conv_col, null_col, value_col : column names. ``null_col`` and
        ``value_col`` may be ``None`` (then zero nulls, value = conversions).
    sep : channel separator; surrounding whitespace is ignored (``">"`` reads
        both ``"a>b"`` and ``"a > b"``).
    model : model name used in error messages.

    Raises
    ------
    SchemaError
        A named column is missing.
    DataValidationError
        Empty table, NaN / infinite / negative counts, an empty channel name,
        or no conversions at all.
    """
    if not isinstance(table, pd.DataFrame):
        raise SchemaError(f"{model}: expected a pandas DataFrame path table, got {type(table).__name__}")
    needed = [c for c in (path_col, conv_col, null_col, value_col) if c is not None]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SchemaError(
            f"{model}: path table has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(str, table.columns))}); pass path_col/conv_col/"
            "null_col/value_col to name yours"
        )
    if len(table) == 0:
        raise DataValidationError(f"{model}: the path table is empty; nothing to attribute")

    def numeric(col: str | None, default: np.ndarray | None) -> np.ndarray:
        if col is None:
            assert default is not None
            return default.astype(np.float64, copy=True)
        values = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{model}: column {col!r} row {row}: {table[col].iloc[row]!r} is not a "
                "finite number; fix or drop the row"
            )
        if (values < 0).any():
            row = int(np.flatnonzero(values < 0)[0])
            raise DataValidationError(
                f"{model}: column {col!r} row {row}: {values[row]!r} is negative; "
                "counts and values must be >= 0"
            )
        return values

    conversions = numeric(conv_col, None)
    nulls = numeric(null_col, np.zeros(len(table)))
    values = numeric(value_col, conversions)

    paths = table[path_col]
    if paths.isna().any():
        row = int(np.flatnonzero(paths.isna().to_numpy())[0])
        raise DataValidationError(f"{model}: column {path_col!r} row {row} is empty; every path needs a channel")
    split = _split_paths(paths.astype(str), sep)
    lengths = np.fromiter((len(p) for p in split), dtype=np.int64, count=len(split))
    flat = [c for p in split for c in p]
    if any(c == "" for c in flat):
        row = next(i for i, p in enumerate(split) if "" in p)
        raise DataValidationError(
            f"{model}: column {path_col!r} row {row}: path {paths.iloc[row]!r} has an "
            f"empty channel name (separator {sep!r} at an end or doubled)"
        )
    channels, inverse = np.unique(np.asarray(flat, dtype=object), return_inverse=True)
    codes = inverse.astype(np.int32)
    offsets = np.zeros(len(split) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])

    if conversions.sum() <= 0:
        raise DataValidationError(
            f"{model}: the path table has no conversions (sum of {conv_col!r} is 0); "
            "there is nothing to credit"
        )
    return EncodedPaths(
        channels=tuple(str(c) for c in channels),
        offsets=offsets,
        codes=codes,
        conversions=conversions,
        nulls=nulls,
        values=values,
    )
