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

Rows that spell the same channel sequence (``"a>b"`` and ``"a > b"``, or the
same path listed twice, e.g. once per breakdown slice) are merged and their
counts and values summed; the encoded paths keep the order of first
appearance.

How it stays fast
-----------------
Splitting finds the separator bytes in the Arrow buffer of the ``path``
column with numpy (no Python loop per path); tokens are factorised by
hashing, and duplicated sequences are found exactly by :func:`sequence_ids`;
both run in Arrow's C++ hash tables over zero-copy buffers (``pyarrow`` is a
dependency of the workbench; a regular-expression split serves multi-byte
separators).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.errors import DataValidationError, SchemaError

__all__ = ["EncodedPaths", "encode_paths", "sequence_ids", "PATH_COLUMNS"]


def _show(value: object) -> str:
    """repr of a cell for messages, numpy scalars shown as Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)

PATH_COLUMNS = {
    "path": "path",
    "conversions": "total_conversions",
    "nulls": "total_null",
    "value": "total_conversion_value",
}

# Joins paths for the one-shot split; not whitespace for ``\s`` (unlike \x1c-\x1f).
_MARKER = "\x00"


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

    @property
    def path_index(self) -> np.ndarray:
        """(n_touches,) int64: the path each touch belongs to."""
        return np.repeat(np.arange(self.n_paths, dtype=np.int64), self.lengths)

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

    def to_frame(self, sep: str = " > ") -> pd.DataFrame:
        """Decode back to a path table (for tests and messages; loops over paths)."""
        return pd.DataFrame(
            {
                "path": [sep.join(self.path(i)) for i in range(self.n_paths)],
                "total_conversions": self.conversions,
                "total_null": self.nulls,
                "total_conversion_value": self.values,
            }
        )


def require_columns(frame: object, table: str, columns, who: str, hint: str = "") -> None:
    """Refuse a non-DataFrame or a frame lacking ``columns`` (``None`` entries skipped).

    The message names the caller (``who``), the table and the missing columns,
    and lists the columns the frame has; ``hint`` is appended (e.g. how to name
    yours).
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"{who}: expected a pandas DataFrame {table} table, got {type(frame).__name__}")
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{who}: {table} table has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(str, frame.columns))}){hint}"
        )


def _split_paths(paths: pd.Series, sep: str) -> list[list[str]]:
    pattern = re.compile(r"\s*" + re.escape(sep.strip() or sep) + r"\s*")
    return [pattern.split(p.strip()) for p in paths]


def _tokenize_arrow(paths: pd.Series, core: str) -> tuple[np.ndarray, list[str], np.ndarray] | None:
    """Split on a one-byte separator over the Arrow buffers of the column.

    Returns ``(entry_codes, entries, first_token)``: every path is cut into
    tokens ``[start, next start)`` at path starts and just after each
    separator byte (so a non-last token ends with the separator), the tokens
    are dictionary-encoded in C++ (``pyarrow.compute.dictionary_encode``) and
    ``first_token[i]`` is the index of path ``i``'s first token (n + 1 entries).
    Returns ``None`` when this path does not apply (multi-byte separator);
    the caller falls back to a regular-expression split.
    """
    if len(core) != 1 or ord(core) > 127:
        return None
    arr = pa.array(paths, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string())
    if pa.types.is_string(arr.type):
        arr = arr.cast(pa.large_string())
    n = len(arr)
    _, offset_buf, data_buf = arr.buffers()
    starts = np.frombuffer(offset_buf, dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    if data_buf is None:  # every string empty
        return None
    data = np.frombuffer(data_buf, dtype=np.uint8)
    lo, hi = int(starts[0]), int(starts[-1])
    after_sep = np.flatnonzero(data[lo:hi] == ord(core)) + (lo + 1)
    first_token = np.arange(n + 1, dtype=np.int64) + np.searchsorted(after_sep, starts, side="right")
    n_tokens = int(first_token[-1])
    bounds = np.empty(n_tokens + 1, dtype=np.int64)
    is_first = np.zeros(n_tokens + 1, dtype=bool)
    is_first[first_token] = True
    bounds[first_token] = starts
    bounds[~is_first] = after_sep
    tokens = pa.LargeStringArray.from_buffers(n_tokens, pa.py_buffer(bounds), data_buf)
    encoded = pc.dictionary_encode(tokens)
    entry_codes = np.asarray(encoded.indices, dtype=np.int64)
    entries = [e[:-1] if e.endswith(core) else e for e in encoded.dictionary.to_pylist()]
    return entry_codes, [e.strip() for e in entries], first_token


def _tokenize_regex(strings: list[str], sep: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Fallback split by one regular expression over all paths (see above)."""
    core = sep.strip() or sep
    n = len(strings)
    big = f" {core} {_MARKER} {core} ".join(strings)
    if big.count(_MARKER) != n - 1:  # a path contains the marker: per-path split
        split = _split_paths(pd.Series(strings, dtype=object), sep)
        lengths = np.fromiter((len(p) for p in split), dtype=np.int64, count=n)
        tokens = [c for p in split for c in p]
        entry_codes, entries = pd.factorize(np.asarray(tokens, dtype=object))
        first_token = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=first_token[1:])
        return entry_codes.astype(np.int64), [str(e) for e in entries], first_token
    pattern = re.compile(r"\s*" + re.escape(core) + r"\s*")
    tokens = pattern.split(big.strip())
    entry_codes, entries = pd.factorize(np.asarray(tokens, dtype=object))
    entries = [str(e) for e in entries]
    # Python comparisons: numpy turns "\x00" into "" when broadcasting.
    marker = [i for i, e in enumerate(entries) if e == _MARKER]
    at = np.flatnonzero(entry_codes == marker[0]) if marker else np.zeros(0, dtype=np.int64)
    keep = np.ones(len(entry_codes), dtype=bool)
    keep[at] = False
    # path i's first token (markers removed) sits at (marker i-1 position + 1) - i
    first_token = np.concatenate(([0], at + 1 - np.arange(1, len(at) + 1), [len(entry_codes) - len(at)]))
    return entry_codes[keep].astype(np.int64), entries, first_token


def sequence_ids(offsets: np.ndarray, codes: np.ndarray, n_symbols: int) -> np.ndarray:
    """Exact integer id per distinct code sequence, in order of first appearance.

    Each path's codes are viewed as one binary string (uint8/uint16/int32
    bytes, zero-copy over ``codes``) and dictionary-encoded by Arrow's hash
    table, which compares values exactly (no reliance on hash uniqueness).

    Parameters
    ----------
    offsets : (n + 1,) int64 CSR offsets.
    codes : (n_touches,) integer symbols in ``[0, n_symbols)``.
    n_symbols : alphabet size.

    Returns
    -------
    ids : (n,) int64 in ``[0, n_distinct)``; equal ids iff equal sequences;
        id ``j`` first appears before id ``j + 1``.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    width = np.uint8 if n_symbols <= 256 else (np.uint16 if n_symbols <= 65536 else np.int32)
    raw = np.ascontiguousarray(codes, dtype=width)
    size = np.dtype(width).itemsize
    binary = pa.Array.from_buffers(
        pa.large_binary(), len(offsets) - 1, [None, pa.py_buffer(offsets * size), pa.py_buffer(raw)]
    )
    return np.asarray(pc.dictionary_encode(binary).indices, dtype=np.int64)


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

    Returns
    -------
    EncodedPaths
        One entry per distinct channel sequence, in order of first appearance.

    Raises
    ------
    SchemaError
        Not a DataFrame, or a named column is missing.
    DataValidationError
        Empty table, NaN / infinite / negative counts, an empty channel name,
        or no conversions at all.
    """
    require_columns(
        table, "path", (path_col, conv_col, null_col, value_col), model,
        hint="; pass path_col/conv_col/null_col/value_col to name yours",
    )
    if len(table) == 0:
        raise DataValidationError(f"{model}: the path table is empty; nothing to attribute")

    def numeric(col: str | None, default: np.ndarray | None) -> np.ndarray:
        if col is None:
            assert default is not None
            return default.astype(np.float64, copy=True)
        values = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{model}: column {col!r} row {row}: {_show(table[col].iloc[row])} is not a "
                "finite number; fix or drop the row"
            )
        if (values < 0).any():
            row = int(np.flatnonzero(values < 0)[0])
            raise DataValidationError(
                f"{model}: column {col!r} row {row}: {float(values[row])!r} is negative; "
                "counts and values must be >= 0"
            )
        return values

    conversions = numeric(conv_col, None)
    nulls = numeric(null_col, np.zeros(len(table)))
    values = numeric(value_col, conversions)
    if conversions.sum() <= 0:
        raise DataValidationError(
            f"{model}: the path table has no conversions (sum of {conv_col!r} is 0); "
            "there is nothing to credit"
        )

    paths = table[path_col]
    isna = paths.isna().to_numpy()
    if isna.any():
        row = int(np.flatnonzero(isna)[0])
        raise DataValidationError(f"{model}: column {path_col!r} row {row} is empty; every path needs a channel")
    core = sep.strip() or sep
    if not pd.api.types.is_string_dtype(paths.dtype):
        paths = paths.astype(str)
    split = _tokenize_arrow(paths, core)
    if split is None:
        split = _tokenize_regex(paths.astype(str).tolist(), sep)
    entry_codes, entries, offsets = split
    lengths = np.diff(offsets)

    empty = [i for i, e in enumerate(entries) if e == ""]
    if empty:
        touch = int(np.flatnonzero(np.isin(entry_codes, empty))[0])
        row = int(np.searchsorted(offsets, touch, side="right") - 1)
        raise DataValidationError(
            f"{model}: column {path_col!r} row {row}: path {_show(paths.iloc[row])} has an "
            f"empty channel name (separator {sep!r} at an end or doubled)"
        )

    # Codes follow sorted channel names (renaming/reordering invariance);
    # spellings of one name ("a ", " a", "a") share its code.
    channels = tuple(sorted(set(entries)))
    code_of = {c: k for k, c in enumerate(channels)}
    entry_map = np.array([code_of[e] for e in entries], dtype=np.int32)
    codes = entry_map[entry_codes]

    # Merge rows spelling the same sequence (weights summed, first-appearance order).
    new_id = sequence_ids(offsets, codes, len(channels))
    n_distinct = int(new_id.max()) + 1
    if n_distinct < len(new_id):
        keep_rows = np.full(n_distinct, len(new_id), dtype=np.int64)
        np.minimum.at(keep_rows, new_id, np.arange(len(new_id)))
        conversions = np.bincount(new_id, weights=conversions, minlength=n_distinct)
        nulls = np.bincount(new_id, weights=nulls, minlength=n_distinct)
        values = np.bincount(new_id, weights=values, minlength=n_distinct)
        lens = lengths[keep_rows]
        touch_rows = np.repeat(offsets[keep_rows], lens) + (
            np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        )
        codes = codes[touch_rows]
        offsets = np.zeros(n_distinct + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])

    return EncodedPaths(
        channels=channels,
        offsets=offsets,
        codes=codes,
        conversions=conversions,
        nulls=nulls,
        values=values,
    )
