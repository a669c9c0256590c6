"""RFM summary (frequency, recency, T, monetary_value) from a transaction log.

The convention is lifetimes' (and the BG/NBD and Pareto/NBD papers'): time
is cut into periods of ``freq`` (a week by default); all purchases of a
customer in one period count as one purchase whose value is their sum; the
first purchase period is the customer's birth and is not a repeat purchase.
For each customer, with periods counted from her first purchase period:

``frequency``       number of later periods with a purchase (repeat purchases, x)
``recency``         period of her last purchase (t_x; 0 without repeats)
``T``               period of the observation end (her age)
``monetary_value``  mean value of the repeat purchase periods (0 without repeats)

Transactions after ``observation_end`` are ignored. Ages are whole numbers of
periods (differences of period ordinals), so ``"M"`` counts calendar months.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features.dates import to_utc
from features.errors import DataValidationError, SchemaError

__all__ = ["summary_from_transactions"]


def summary_from_transactions(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    value_col: str | None = None,
    observation_end: Any = None,
    freq: str = "W",
) -> pd.DataFrame:
    """Summarise a transaction log into one row per customer.

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction.
    customer_col : str
        Customer (account) identifier column.
    date_col : str
        Transaction date or timestamp column (parsed with ``pd.to_datetime``).
    value_col : str, optional
        Transaction value column; adds ``monetary_value``.
    observation_end : date-like, optional
        End of the calibration period (inclusive); default: the last
        transaction date.
    freq : str, default="W"
        Period of the pandas ``to_period`` kind: ``"D"``, ``"W"``, ``"M"``...

    Returns
    -------
    DataFrame
        Indexed by ``customer_col`` (sorted), columns ``frequency``,
        ``recency``, ``T`` (floats, in periods) and ``monetary_value`` when
        ``value_col`` is given.

    Raises
    ------
    SchemaError
        A named column is missing.
    DataValidationError
        No transactions, a missing customer id, an unreadable or missing date,
        a missing or infinite value, or no transaction on or before
        ``observation_end``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting Your
    Customers" the Easy Way. Marketing Science, 24(2), 275-284.
    """
    who = "summary_from_transactions"
    cols = [customer_col, date_col] + ([value_col] if value_col else [])
    missing = [c for c in cols if c not in transactions.columns]
    if missing:
        raise SchemaError(
            f"{who}: transactions is missing column(s) {missing} "
            f"(columns present: {list(map(str, transactions.columns))}); pass the names of the "
            "customer, date and (optional) value columns."
        )
    if len(transactions) == 0:
        raise DataValidationError(f"{who}: the transactions table is empty.")
    ids = transactions[customer_col]
    if ids.isna().any():
        row = transactions.index[int(np.flatnonzero(ids.isna().to_numpy())[0])]
        raise DataValidationError(
            f"{who}: {customer_col} is missing at row {row!r}; drop or quarantine anonymous transactions."
        )
    try:
        dates = pd.to_datetime(transactions[date_col])
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"{who}: {date_col} has a value that is not a date ({exc}); expected ISO 8601, e.g. 2024-01-31."
        ) from None
    if dates.isna().any():
        row = transactions.index[int(np.flatnonzero(dates.isna().to_numpy())[0])]
        raise DataValidationError(f"{who}: {date_col} is missing at row {row!r}; every transaction needs a date.")
    if dates.dt.tz is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    try:
        periods = dates.dt.to_period(freq)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"{who}: freq {freq!r} is not a pandas period alias ({exc}); use 'D', 'W' or 'M'.") from None
    if observation_end is None:
        end = periods.max()
    else:
        end_ts = to_utc(observation_end, f"{who}: observation_end", error=DataValidationError)
        end = end_ts.tz_localize(None).to_period(freq)
    # period ordinals: integer period numbers, so ages are whole periods
    frame = pd.DataFrame({"customer": ids.to_numpy(), "ordinal": periods.array.asi8})
    if value_col:
        values = pd.to_numeric(transactions[value_col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            row = transactions.index[int(np.flatnonzero(bad)[0])]
            raise DataValidationError(
                f"{who}: {value_col} is missing, not a number or infinite at row {row!r}; "
                "fix or drop that transaction."
            )
        frame["value"] = values
    frame = frame[frame["ordinal"] <= end.ordinal]
    if frame.empty:
        raise DataValidationError(
            f"{who}: no transaction on or before observation_end {observation_end!r}; "
            "pass a later observation_end."
        )
    # purchases in the same period collapse into one (values summed)
    if value_col:
        per_period = frame.groupby(["customer", "ordinal"], sort=True)[["value"]].sum()
    else:
        per_period = frame.drop_duplicates().set_index(["customer", "ordinal"]).sort_index()
    cust = per_period.index.get_level_values("customer")
    ordinal = per_period.index.get_level_values("ordinal").to_numpy(dtype=np.int64)
    codes, uniques = pd.factorize(cust, sort=False)
    first_pos = np.r_[0, np.flatnonzero(codes[1:] != codes[:-1]) + 1]
    last_pos = np.r_[first_pos[1:] - 1, codes.size - 1]
    first = ordinal[first_pos]
    n_periods = last_pos - first_pos + 1
    out = pd.DataFrame(
        {
            "frequency": (n_periods - 1).astype(float),
            "recency": (ordinal[last_pos] - first).astype(float),
            "T": (end.ordinal - first).astype(float),
        },
        index=pd.Index(uniques, name=customer_col),
    )
    if value_col:
        values = per_period["value"].to_numpy()
        total = np.add.reduceat(values, first_pos)
        repeat_total = total - values[first_pos]
        out["monetary_value"] = np.where(n_periods > 1, repeat_total / np.maximum(n_periods - 1, 1), 0.0)
    return out
