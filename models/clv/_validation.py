"""Input checks shared by the CLV models: one helper per kind of input.

Every public entry point of :mod:`models.clv` validates its data here, once,
and refuses bad values with a message that names the model, the field, the
offending value (and its row) and the fix (STYLE.md, conventions 3 and 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.errors import DataValidationError, SchemaError

SUMMARY_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T")

_SUMMARY_HINT = (
    "build the summary with models.clv.summary_from_transactions "
    "(lifetimes convention: repeat purchases only)"
)


def _first_bad(mask: np.ndarray, index: Sequence[Any] | None) -> str:
    """Describe the first offending row of ``mask`` and how many there are."""
    pos = int(np.flatnonzero(mask)[0])
    label = index[pos] if index is not None else pos
    if isinstance(label, np.generic):
        label = label.item()
    n_bad = int(mask.sum())
    more = f" ({n_bad} rows in all)" if n_bad > 1 else ""
    return f"row {label!r}{more}"


def _as_float_column(values: Any, name: str, who: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"{who}: {name} must be numeric; got values that cannot be read as numbers "
            f"({exc}). Convert the column to numbers first."
        ) from None
    return arr.reshape(-1)


def check_finite(arr: np.ndarray, name: str, who: str, index: Sequence[Any] | None) -> None:
    """Refuse NaN and infinite values in ``arr``."""
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataValidationError(
            f"{who}: {name} has a missing or infinite value at {_first_bad(bad, index)}: "
            f"{float(arr[bad][0])!r}. Drop those customers or fill the value before fitting."
        )


def _columns_of(data: Any, columns: tuple[str, ...], who: str) -> tuple[list[np.ndarray], Any]:
    """Split a DataFrame (by name) or a 2-D array (by position) into columns."""
    if isinstance(data, pd.DataFrame):
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise SchemaError(
                f"{who}: the summary is missing column(s) {missing} "
                f"(expected {list(columns)}, got {list(map(str, data.columns))}); "
                f"{_SUMMARY_HINT}."
            )
        return [_as_float_column(data[c].to_numpy(), c, who) for c in columns], data.index
    arr = np.asarray(data, dtype=float) if not isinstance(data, np.ndarray) else data
    if arr.ndim != 2 or arr.shape[1] != len(columns):
        raise SchemaError(
            f"{who}: expected a DataFrame with columns {list(columns)} or an array of shape "
            f"(n_customers, {len(columns)}) in that order; got shape {arr.shape}."
        )
    return [_as_float_column(arr[:, j], c, who) for j, c in enumerate(columns)], None


def check_sample_weight(
    sample_weight: Any, n: int, who: str
) -> np.ndarray | None:
    """Return ``sample_weight`` as a float array of length ``n`` (or ``None``)."""
    if sample_weight is None:
        return None
    w = _as_float_column(sample_weight, "sample_weight", who)
    if w.shape[0] != n:
        raise DataValidationError(
            f"{who}: sample_weight has {w.shape[0]} values for {n} customers; "
            "give one weight (a count of identical customers) per row."
        )
    check_finite(w, "sample_weight", who, None)
    if (w < 0).any():
        raise DataValidationError(
            f"{who}: sample_weight must be >= 0; {_first_bad(w < 0, None)} has {float(w[w < 0][0])!r}."
        )
    return w


def check_summary(data: Any, who: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate an RFM summary and return ``(frequency, recency, T)`` as float arrays.

    Parameters
    ----------
    data : DataFrame or array-like of shape (n_customers, 3)
        Columns ``frequency``, ``recency``, ``T`` (by name for a DataFrame, by
        position for an array).
    who : str
        The caller, e.g. ``"BetaGeoModel.fit"``, quoted in every message.

    Raises
    ------
    SchemaError
        A column is missing or the array has the wrong shape.
    DataValidationError
        Empty input, NaN/inf, negative or fractional frequency, negative
        recency, recency greater than T, or non-zero recency with zero frequency.
    """
    (x, t_x, T), index = _columns_of(data, SUMMARY_COLUMNS, who)
    if x.shape[0] == 0:
        raise DataValidationError(
            f"{who}: the summary has no customers; pass at least one row "
            "(did a filter or the observation_end date remove every customer?)."
        )
    for arr, name in ((x, "frequency"), (t_x, "recency"), (T, "T")):
        check_finite(arr, name, who, index)
    bad = (x < 0) | (x != np.floor(x))
    if bad.any():
        raise DataValidationError(
            f"{who}: frequency must be a non-negative whole number of repeat purchases; "
            f"{_first_bad(bad, index)} has {float(x[bad][0])!r}. Count repeat purchase periods "
            f"(the first purchase excluded); {_SUMMARY_HINT}."
        )
    bad = t_x < 0
    if bad.any():
        raise DataValidationError(
            f"{who}: recency must be >= 0 (the age at the last repeat purchase); "
            f"{_first_bad(bad, index)} has {float(t_x[bad][0])!r}."
        )
    bad = t_x > T
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"{who}: recency must not exceed T (recency is the age at the last repeat "
            f"purchase, T the age at the end of observation); {_first_bad(bad, index)} has "
            f"recency {float(t_x[pos])!r} > T {float(T[pos])!r}. Measure both from the first purchase "
            "in the same time unit, and end T at the observation end."
        )
    bad = (x == 0) & (t_x != 0)
    if bad.any():
        raise DataValidationError(
            f"{who}: recency must be 0 when frequency is 0 (no repeat purchase); "
            f"{_first_bad(bad, index)} has recency {float(t_x[bad][0])!r}. Is the first purchase "
            f"counted in frequency? {_SUMMARY_HINT}."
        )
    return x, t_x, T


def check_monetary(data: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(frequency, monetary_value)`` of repeat buyers for the Gamma-Gamma fit."""
    (x, m), index = _columns_of(data, ("frequency", "monetary_value"), who)
    if x.shape[0] == 0:
        raise DataValidationError(
            f"{who}: no repeat buyers to fit on; the Gamma-Gamma model needs customers "
            "with frequency > 0."
        )
    check_finite(x, "frequency", who, index)
    check_finite(m, "monetary_value", who, index)
    bad = (x < 1) | (x != np.floor(x))
    if bad.any():
        raise DataValidationError(
            f"{who}: frequency must be a whole number >= 1 (the model is fitted on repeat "
            f"buyers only); {_first_bad(bad, index)} has {float(x[bad][0])!r}. Filter first: "
            "summary[summary['frequency'] > 0]."
        )
    bad = m <= 0
    if bad.any():
        raise DataValidationError(
            f"{who}: monetary_value must be > 0 (the mean value of the repeat purchases); "
            f"{_first_bad(bad, index)} has {float(m[bad][0])!r}. Drop refunds/zero-value orders "
            "or those customers before fitting."
        )
    return x, m


def check_positive_scalar(value: Any, name: str, who: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, refusing NaN, inf and (non-)positive values."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DataValidationError(f"{who}: {name} must be a number; got {value!r}.") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise DataValidationError(f"{who}: {name} must be a finite number {rule}; got {value!r}.")
    return v


def check_times(t: Any, name: str, who: str) -> np.ndarray:
    """Return future horizon(s) ``t`` as a float array, refusing negative and NaN values."""
    arr = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise DataValidationError(
            f"{who}: {name} must be finite and >= 0 (a horizon in the summary's time unit); "
            f"got {t!r}."
        )
    return arr
