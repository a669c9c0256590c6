"""Reading one date-like value (an as-of date, a cut-off, an observation end).

Every parameter that names a point in time goes through :func:`to_utc`, so
they all accept the same inputs (ISO 8601 strings, ``Timestamp``,
``datetime``, ``numpy.datetime64``), treat a date without a time zone as UTC,
and refuse a bad value with the same kind of message.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from features.errors import ConfigError, WorkbenchError

__all__ = ["to_utc"]


def to_utc(value: Any, label: str, *, error: type[WorkbenchError] = ConfigError) -> pd.Timestamp:
    """``value`` as a nanosecond UTC :class:`~pandas.Timestamp`.

    Parameters
    ----------
    value : date-like
        Tz-naive values are taken as UTC; tz-aware ones are converted.
    label : str
        How the value is named in the error message, e.g. ``"as_of"`` or
        ``"clv_comparison: cutoff"``.
    error : WorkbenchError subclass, default ConfigError
        Raised, with a message naming ``label`` and the value, when ``value``
        is not a date or is NaT.
    """
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise error(f"{label} {value!r} is not a date (expected ISO 8601, e.g. '2024-06-30')") from exc
    if pd.isna(ts):
        raise error(f"{label} {value!r} is not a date (got NaT)")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.as_unit("ns")
