"""Journeys and the path table: touchpoint sequences up to a conversion.

A *journey* is the time-ordered sequence of one account's touches that leads
to one conversion event (a *converting* journey, one per opportunity), or the
account's touches that have not led to a conversion yet (a *non-converting*
journey, at most one per account). Journeys are summarised as the **path
table** of DESIGN.md (ChannelAttribution's interchange format), the only
input of every attribution model, and detailed as a **journey-level table**
(one row per touch) for time-aware models.

Definitions
-----------
Let ``end`` be the observation end and ``L`` the lookback (``lookback_days``).

Conversion events
    ``conversion="opportunity_created"``: every opportunity, at its
    ``created_at``. ``conversion="closed_won"``: every opportunity with
    ``is_won`` true, at its ``closed_at``; won opportunities without
    ``closed_at`` are not events (counted in ``stats.won_without_closed_at``);
    lost and open opportunities are not events, their touches flow into the
    account's next event or its non-converting journey. Events after ``end``
    have not happened yet as seen at ``end``: they are ignored and counted in
    ``stats.conversions_after_observation_end``. An account's events are
    ordered by (time, opportunity_id).
Converting journey of event ``e`` (account ``a``, time ``T``)
    The touches of ``a`` with ``timestamp`` in ``(T_prev, T]`` and in
    ``[T - L, T]``, where ``T_prev`` is the time of ``a``'s previous event (no
    lower limit for the first one). Both ends of the lookback window are
    included; a touch at exactly the time of an event belongs to that event.
    Two events at the same instant: the first (by opportunity_id) takes the
    touches, the second has an empty window.
Non-converting journey of account ``a``
    The touches of ``a`` in ``(T_last, end]`` and ``[end - L, end]``, where
    ``T_last`` is ``a``'s last event (no lower limit if it has none). It exists
    only if it has at least one touch.
Outside the window
    A touch in no journey (older than the lookback of the event or of ``end``
    that follows it, or later than ``end``) is counted in
    ``stats.touches_outside_window``; never dropped silently.
Conversions without touches
    A conversion whose window holds no touch (a "direct" conversion) is
    **excluded from the path table** (a path needs a channel) and reported in
    ``stats.conversions_without_touches`` and in ``Journeys.direct_conversions``.
Order of touches
    By ``timestamp``; touches of one account at the same instant are ordered
    by ``touchpoint_id`` (its natural sort order: lexicographic, by code
    point, for strings). The tie-break is part of the contract: the path
    table does not depend on the order of the input rows.
Channel grouping (``channel_groups``)
    A mapping raw channel -> group name, applied first. Unmapped channels are
    kept under their own name (``unmapped_channels="keep"``, listed in
    ``stats.unmapped_channels``) or refused with :class:`ConfigError`
    (``"error"``).
Collapse (``collapse_repeats=True``)
    Applied after grouping: a touch whose (grouped) channel equals the
    previous touch's channel in the same journey is removed, so
    ``a > a > b > a`` becomes ``a > b > a``. The first touch of each run is
    kept. Removed touches are counted in ``stats.touches_collapsed``.
Maximum length (``max_path_length=N``)
    Applied after collapsing: only the **last** ``N`` touches of a journey
    (the ones closest to the conversion or to ``end``) are kept; the others
    are counted in ``stats.touches_dropped_by_max_length``.

Accounting (checked on every run; a violation raises
:class:`JourneyInvariantError`, which is a bug, not a data problem)::

    touches_in = touches_in_journeys + touches_collapsed
                 + touches_dropped_by_max_length + touches_outside_window
    sum(total_conversions + total_null) = journeys = converting + non_converting
    sum(len(path) * (total_conversions + total_null)) = touches_in_journeys
    converting + conversions_without_touches = conversions

``touches_in_journeys`` counts the touches that appear in paths (and as rows
of :attr:`Journeys.touches`).

Outputs
-------
``Journeys.paths``
    breakdown columns (if any), ``path`` (grouped channels joined by
    ``" > "``), ``total_conversions`` (int64), ``total_null`` (int64),
    ``total_conversion_value`` (float64: the sum of the opportunities'
    ``amount``; a missing amount counts 0 and is reported in
    ``stats.conversions_without_amount``). Sorted by breakdowns, then path.
    Accounts missing from ``accounts`` get null breakdown values.
``Journeys.touches`` (built on first access)
    One row per touch kept in a path, in journey order: ``journey_id``,
    ``account_id``, ``opportunity_id`` (null if non-converting),
    ``touch_order`` (1-based), ``touchpoint_id``, ``timestamp``, ``channel``
    (grouped), ``original_channel`` (when grouping), ``signal``,
    ``contact_id``, ``buying_role`` (from ``contacts``, null if unknown),
    ``days_to_conversion`` (float days from the touch to the event, NaN if
    non-converting), ``converted``, ``conversion_value`` (0 if
    non-converting).
``Journeys.journeys`` (built on first access)
    One row per journey. ``journey_id`` numbers journeys 0..J-1 in order of
    (account_id, time).

Algorithm: one sort of (account, time) keys, journey windows as ranges found
by binary search per event, hashing of code sequences to find the distinct
paths (verified exactly); see :mod:`features._journeys_core`.

References
----------
Altomare, D. and Loris, D. (2023). *ChannelAttribution: Markov model for
online multi-channel attribution*, R/Python package: the path-table format.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features._journeys_core import EngineResult, JourneyInvariantError, run_engine
from features.contracts import CONTRACTS
from features.dates import to_utc
from features.errors import ConfigError, DataValidationError, SchemaError

__all__ = [
    "JourneyConfig",
    "JourneyStats",
    "Journeys",
    "JourneyInvariantError",
    "build_journeys",
    "path_table_from_journeys",
    "PATH_SEPARATOR",
]

logger = logging.getLogger(__name__)

PATH_SEPARATOR = " > "
_NS_PER_DAY = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min
_UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3 default "str"
_COUNT_COLUMNS = ("total_conversions", "total_null", "total_conversion_value")


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class JourneyConfig:
    """Parameters of :func:`build_journeys` (see the module docstring).

    Parameters
    ----------
    conversion : {"opportunity_created", "closed_won"}, default "opportunity_created"
        The conversion event.
    lookback_days : float or None, default 365
        Window length before each conversion (and before ``observation_end``
        for non-converting journeys); ``None`` for no limit.
    observation_end : timestamp-like or None, default None
        End of the observation window; ``None`` means the latest touch or
        conversion event in the data. A naive value is read as UTC.
    channel_groups : mapping of str to str or None, default None
        Raw channel -> group name.
    unmapped_channels : {"keep", "error"}, default "keep"
        What to do with channels absent from ``channel_groups``.
    collapse_repeats : bool, default False
        Remove consecutive repeats of a channel within a journey.
    max_path_length : int or None, default None
        Keep only the last ``max_path_length`` touches of each journey.
    breakdowns : sequence of str, default ()
        ``accounts`` columns to break the path table down by (segment,
        region, business_unit, abm_tier, ...).
    """

    conversion: Literal["opportunity_created", "closed_won"] = "opportunity_created"
    lookback_days: float | None = 365
    observation_end: pd.Timestamp | str | None = None
    channel_groups: Mapping[str, str] | None = None
    unmapped_channels: Literal["keep", "error"] = "keep"
    collapse_repeats: bool = False
    max_path_length: int | None = None
    breakdowns: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.conversion not in ("opportunity_created", "closed_won"):
            raise ConfigError(
                f"JourneyConfig.conversion={self.conversion!r}: expected "
                "'opportunity_created' or 'closed_won'"
            )
        lb = self.lookback_days
        if lb is not None and (
            isinstance(lb, bool)
            or not isinstance(lb, (int, float, np.integer, np.floating))
            or not math.isfinite(lb)
            or lb <= 0
        ):
            raise ConfigError(
                f"JourneyConfig.lookback_days={lb!r}: expected a positive number of "
                "days (e.g. 365), or None for no limit"
            )
        if self.observation_end is not None:
            object.__setattr__(self, "observation_end", to_utc(self.observation_end, "JourneyConfig.observation_end"))
        if self.channel_groups is not None:
            if not isinstance(self.channel_groups, Mapping):
                raise ConfigError(
                    "JourneyConfig.channel_groups: expected a mapping channel -> group, "
                    f"got {type(self.channel_groups).__name__}"
                )
            for k, v in self.channel_groups.items():
                if not isinstance(k, str) or not isinstance(v, str) or not v.strip():
                    raise ConfigError(
                        f"JourneyConfig.channel_groups: {k!r} -> {v!r}; channels and "
                        "groups must be non-empty strings"
                    )
                if ">" in v:
                    raise ConfigError(
                        f"JourneyConfig.channel_groups: group {v!r} contains '>', the "
                        "path separator; rename the group"
                    )
            object.__setattr__(self, "channel_groups", MappingProxyType(dict(self.channel_groups)))
        if self.unmapped_channels not in ("keep", "error"):
            raise ConfigError(
                f"JourneyConfig.unmapped_channels={self.unmapped_channels!r}: expected "
                "'keep' or 'error'"
            )
        if not isinstance(self.collapse_repeats, (bool, np.bool_)):
            raise ConfigError(
                f"JourneyConfig.collapse_repeats={self.collapse_repeats!r}: expected True or False"
            )
        n = self.max_path_length
        if n is not None and (
            isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1
        ):
            raise ConfigError(
                f"JourneyConfig.max_path_length={n!r}: expected an integer >= 1 or None"
            )
        b = self.breakdowns
        b = (b,) if isinstance(b, str) else tuple(b)
        if not all(isinstance(c, str) and c for c in b) or len(set(b)) != len(b):
            raise ConfigError(
                f"JourneyConfig.breakdowns={self.breakdowns!r}: expected distinct "
                "accounts column names, e.g. ('segment', 'region')"
            )
        object.__setattr__(self, "breakdowns", b)

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> JourneyConfig:
        """Build from a config mapping (e.g. YAML), refusing unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(
                f"journeys config: unknown key(s) {', '.join(unknown)}; expected some of "
                f"{', '.join(sorted(known))}"
            )
        return cls(**dict(params))


@dataclass(frozen=True)
class JourneyStats:
    """Bookkeeping of one :func:`build_journeys` run (see the module docstring)."""

    touches_in: int
    touches_in_journeys: int
    touches_outside_window: int
    touches_collapsed: int
    touches_dropped_by_max_length: int
    journeys: int
    converting: int
    non_converting: int
    conversions: int
    conversions_without_touches: int
    conversions_after_observation_end: int
    won_without_closed_at: int
    conversions_without_amount: int
    distinct_paths: int
    tied_touches: int
    unmapped_channels: tuple[str, ...]
    observation_end: pd.Timestamp

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for logging / MLflow params)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


# --------------------------------------------------------------------------- input


def _require(frame: Any, table: str, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"journeys: {table} must be a pandas DataFrame, got {type(frame).__name__}"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        known = CONTRACTS[table].required_columns if table in CONTRACTS else []
        raise SchemaError(
            f"journeys: {table} has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(str, frame.columns))}); the {table} contract "
            f"requires {', '.join(known)} (rename with a mapping file, or load with "
            "features.loading)"
        )
    return frame


def _datetime_ns(frame: pd.DataFrame, table: str, column: str, *, nullable: bool) -> np.ndarray:
    """int64 ns since the epoch (UTC) of a tz-aware datetime column; NaT -> min int64."""
    s = frame[column]
    dtype = s.dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_dtype(dtype):
            raise SchemaError(
                f"journeys: {table}.{column} is a naive datetime ({dtype}); the contract "
                "is UTC (datetime64[ns, UTC]): load with features.loading or call "
                ".dt.tz_localize('UTC')"
            )
        raise SchemaError(
            f"journeys: {table}.{column} has dtype {dtype}, expected datetime64[ns, UTC]; "
            "load the table with features.loading or pd.to_datetime(..., utc=True)"
        )
    raw = np.asarray(s.array.asi8)
    nat = raw == _NAT
    values = raw * _UNIT_NS[dtype.unit] if dtype.unit != "ns" else raw.copy()
    if nat.any():
        if not nullable:
            row = int(np.flatnonzero(nat)[0])
            raise DataValidationError(
                f"journeys: {table}.{column} row {row} is empty; the contract requires a "
                "timestamp (validate the table with features.validation first)"
            )
        values[nat] = _NAT
    return values


def _codes(series: pd.Series, table: str, column: str) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(series, sort=True)
    if len(codes) and codes.min() < 0:
        row = int(np.flatnonzero(codes < 0)[0])
        raise DataValidationError(
            f"journeys: {table}.{column} row {row} is empty; the contract requires a "
            "value (validate the table with features.validation first)"
        )
    return codes, pd.Index(uniques)


def _resolve_tables(
    touchpoints: Any, opportunities: Any, accounts: Any, contacts: Any
) -> tuple[Any, Any, Any, Any]:
    source = touchpoints
    if not isinstance(touchpoints, (pd.DataFrame, Mapping)):
        source = getattr(touchpoints, "tables", touchpoints)
    if isinstance(source, Mapping):
        given = {"opportunities": opportunities, "accounts": accounts, "contacts": contacts}
        clash = [k for k, v in given.items() if v is not None]
        if clash:
            raise ConfigError(
                f"journeys: pass either a mapping of tables or frames, not both "
                f"({', '.join(clash)} given twice)"
            )
        if "touchpoints" not in source or "opportunities" not in source:
            raise SchemaError(
                "journeys: the tables mapping needs 'touchpoints' and 'opportunities' "
                f"(got {', '.join(map(str, source))})"
            )
        return (
            source["touchpoints"],
            source["opportunities"],
            source.get("accounts"),
            source.get("contacts"),
        )
    if opportunities is None:
        raise SchemaError("journeys: the opportunities table is required")
    return touchpoints, opportunities, accounts, contacts


def _channel_map(
    names: pd.Index, config: JourneyConfig
) -> tuple[np.ndarray, pd.Index, tuple[str, ...]]:
    """Raw channel code -> group code, the group names (sorted), unmapped names."""
    raw = [str(c) for c in names]
    unmapped: tuple[str, ...] = ()
    if config.channel_groups is None:
        grouped = raw
    else:
        groups = config.channel_groups
        unmapped = tuple(c for c in raw if c not in groups)
        if unmapped and config.unmapped_channels == "error":
            raise ConfigError(
                f"journeys: channel(s) {', '.join(map(repr, unmapped))} are not in "
                "channel_groups; add them to the mapping, or set "
                "unmapped_channels='keep' to keep them under their own name"
            )
        grouped = [groups.get(c, c) for c in raw]
    bad = [c for c in grouped if not c.strip() or ">" in c]
    if bad:
        raise DataValidationError(
            f"journeys: channel name(s) {', '.join(map(repr, bad))} are empty or contain "
            "'>', the path separator; rename them (or map them with channel_groups)"
        )
    codes, group_names = pd.factorize(np.asarray(grouped, dtype=object), sort=True)
    return codes.astype(np.int64), pd.Index(group_names, dtype=_STR), unmapped


@dataclass(frozen=True)
class _Events:
    """Conversion events, sorted by (account code, time, opportunity_id)."""

    account: np.ndarray
    time_ns: np.ndarray
    value: np.ndarray  # amount, NaN -> 0
    opportunity_id: pd.api.extensions.ExtensionArray | np.ndarray
    account_id: pd.api.extensions.ExtensionArray | np.ndarray


# --------------------------------------------------------------------------- output


@dataclass(frozen=True)
class _State:
    """What the lazy tables and re-aggregations need (private)."""

    result: EngineResult
    touchpoints: pd.DataFrame
    contacts: pd.DataFrame | None
    accounts: pd.DataFrame | None
    account_ids: pd.Index  # account code -> account_id (touch accounts first)
    raw_channel: np.ndarray
    raw_names: pd.Index
    group_names: pd.Index
    time_ns: np.ndarray
    events: _Events
    path_strings: Any  # pandas "str" array, one per distinct path
    path_arrow: pa.LargeStringArray  # the same strings (zero-copy)
    path_lengths: np.ndarray
    converted: np.ndarray  # (J,) bool
    value: np.ndarray  # (J,) float


@dataclass(frozen=True, eq=False)
class Journeys:
    """Result of :func:`build_journeys`.

    Attributes
    ----------
    paths : DataFrame
        The path table (module docstring, "Outputs").
    stats : JourneyStats
        Bookkeeping; the accounting identities hold.
    config : JourneyConfig
        The parameters used (with ``observation_end`` resolved in ``stats``).
    direct_conversions : DataFrame
        Conversions without any touch in their window: ``opportunity_id``,
        ``account_id``, ``converted_at``, ``conversion_value``.
    touches, journeys : DataFrame
        Journey-level tables, built on first access (they are as large as
        the touches; the path table does not need them).
    """

    paths: pd.DataFrame
    stats: JourneyStats
    config: JourneyConfig
    direct_conversions: pd.DataFrame
    _state: _State = field(repr=False)

    @cached_property
    def touches(self) -> pd.DataFrame:
        """One row per touch kept in a path (module docstring, "Outputs")."""
        return _touches_table(self._state, self.config)

    @cached_property
    def journeys(self) -> pd.DataFrame:
        """One row per journey: ids, converted, value, times, length, path."""
        return _journeys_table(self._state)


def _path_strings(group_names: pd.Index, result: EngineResult) -> pa.LargeStringArray:
    """The ``" > "``-joined string of each distinct path, built in Arrow."""
    offsets, codes = result.path_codes()
    names = pa.array(list(group_names), type=pa.large_string())
    tokens = names.take(pa.array(codes))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), tokens)
    return pc.binary_join(lists, pa.scalar(PATH_SEPARATOR, type=pa.large_string()))


def _aggregate(
    state: _State, breakdowns: tuple[str, ...], accounts: pd.DataFrame | None
) -> pd.DataFrame:
    res = state.result
    n_paths = len(res.path_rep)
    group = res.journey_path
    n_groups = n_paths
    columns: dict[str, Any] = {}
    path_of_group = np.arange(n_paths)
    if breakdowns:
        if accounts is None:
            raise SchemaError(
                f"journeys: breakdowns {', '.join(breakdowns)} need the accounts table; "
                "pass accounts=..."
            )
        _require(accounts, "accounts", ["account_id", *breakdowns])
        ids = accounts["account_id"]
        if not ids.is_unique:
            dup = ids[ids.duplicated()].iloc[0]
            raise DataValidationError(
                f"journeys: accounts.account_id {dup!r} appears more than once; the "
                "contract requires unique account ids"
            )
        per_account = (
            accounts.set_index("account_id")[list(breakdowns)]
            .reindex(state.account_ids)
            .reset_index(drop=True)
        )
        bd_code = per_account.groupby(list(breakdowns), dropna=False, sort=True).ngroup()
        bd_code = bd_code.to_numpy(dtype=np.int64)
        n_bd = int(bd_code.max()) + 1 if len(bd_code) else 1
        key = group * n_bd + bd_code[res.journey_account]
        uniq, group = np.unique(key, return_inverse=True)
        n_groups = len(uniq)
        path_of_group = uniq // n_bd
        first = np.zeros(n_bd, dtype=np.int64)
        present, first_row = np.unique(bd_code, return_index=True)
        first[present] = first_row
        rows_of_group = first[uniq % n_bd]
        for c in breakdowns:
            columns[c] = per_account[c].array.take(rows_of_group)
    conv = np.bincount(group, weights=state.converted, minlength=n_groups)
    journeys = np.bincount(group, minlength=n_groups)
    value = np.bincount(group, weights=state.value, minlength=n_groups)
    columns["total_conversions"] = conv.astype(np.int64)
    columns["total_null"] = (journeys - conv).astype(np.int64)
    columns["total_conversion_value"] = value.astype(np.float64)
    if not breakdowns:
        # Sort the (long) strings once, in Arrow; take them once.
        order = pc.sort_indices(state.path_arrow).to_numpy()
        frame = pd.DataFrame({"path": state.path_strings.take(order)})
        for c in ("total_conversions", "total_null", "total_conversion_value"):
            frame[c] = columns[c][order]
        return frame
    columns["path"] = state.path_strings.take(path_of_group)
    frame = pd.DataFrame(columns)[[*breakdowns, "path", *_COUNT_COLUMNS]]
    frame = frame.sort_values([*breakdowns, "path"], kind="stable", na_position="last")
    return frame.reset_index(drop=True)


def path_table_from_journeys(
    journeys: Journeys,
    *,
    breakdowns: Sequence[str] = (),
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Re-aggregate built journeys into a path table with other breakdowns.

    No touch is re-read: the distinct paths and per-journey weights are kept
    by :func:`build_journeys`, so slicing by another set of ``accounts``
    columns costs a group-by over journeys only.

    Parameters
    ----------
    journeys : Journeys
        Result of :func:`build_journeys`.
    breakdowns : sequence of str, default ()
        ``accounts`` columns to break down by.
    accounts : DataFrame, optional
        Defaults to the accounts table given to :func:`build_journeys`.

    Returns
    -------
    DataFrame
        breakdowns..., path, total_conversions, total_null,
        total_conversion_value.
    """
    cfg = JourneyConfig(breakdowns=tuple(breakdowns))  # validates the names
    return _aggregate(
        journeys._state, cfg.breakdowns, accounts if accounts is not None else journeys._state.accounts
    )


def _take(values: Any, idx: np.ndarray) -> Any:
    arr = values.array if isinstance(values, pd.Series) else values
    return arr.take(idx, allow_fill=True) if hasattr(arr, "take") else np.take(arr, idx)


def _touches_table(state: _State, config: JourneyConfig) -> pd.DataFrame:
    res = state.result
    tp = state.touchpoints
    rows = res.rows
    ev = state.events
    j_event = res.journey_event
    converted_j = state.converted
    opp_j = _take(pd.array(ev.opportunity_id, dtype=_STR), j_event)
    ev_time_j = np.where(converted_j, ev.time_ns[np.maximum(j_event, 0)] if len(ev.time_ns) else 0, 0)
    t = state.time_ns[rows]
    days = (ev_time_j[res.journey] - t) / _NS_PER_DAY
    days[~converted_j[res.journey]] = np.nan
    out: dict[str, Any] = {
        "journey_id": res.journey.astype(np.int64),
        "account_id": _take(tp["account_id"], rows),
        "opportunity_id": _take(opp_j, res.journey),
        "touch_order": res.position.astype(np.int64) + 1,
        "touchpoint_id": _take(tp["touchpoint_id"], rows),
        "timestamp": _take(tp["timestamp"], rows),
        "channel": state.group_names.array.take(res.codes.astype(np.int64)),
    }
    if config.channel_groups is not None:
        out["original_channel"] = state.raw_names.array.take(state.raw_channel[rows])
    for col in ("signal", "contact_id"):
        out[col] = _take(tp[col], rows) if col in tp.columns else pd.array(
            np.full(len(rows), np.nan, dtype=object), dtype=_STR
        )
    out["buying_role"] = _buying_roles(state.contacts, out["contact_id"])
    out["days_to_conversion"] = days
    out["converted"] = converted_j[res.journey]
    out["conversion_value"] = state.value[res.journey]
    return pd.DataFrame(out)


def _buying_roles(contacts: pd.DataFrame | None, contact_ids: Any) -> Any:
    if contacts is None or "buying_role" not in getattr(contacts, "columns", ()):
        return pd.array(np.full(len(contact_ids), np.nan, dtype=object), dtype=_STR)
    _require(contacts, "contacts", ["contact_id", "buying_role"])
    index = pd.Index(contacts["contact_id"])
    if not index.is_unique:
        raise DataValidationError(
            "journeys: contacts.contact_id has duplicates; the contract requires unique "
            "contact ids (validate the table with features.validation first)"
        )
    idx = index.get_indexer(pd.Index(contact_ids))
    return contacts["buying_role"].array.take(idx, allow_fill=True)


def _journeys_table(state: _State) -> pd.DataFrame:
    res = state.result
    ev = state.events
    j_event = res.journey_event
    n = res.n_journeys
    first = res.rows[res.offsets[:-1]]
    last = res.rows[res.offsets[1:] - 1]
    conv_at = np.full(n, _NAT, dtype=np.int64)
    conv_at[state.converted] = ev.time_ns[j_event[state.converted]]
    utc = pd.DatetimeTZDtype("ns", "UTC")

    def ts(values: np.ndarray) -> pd.arrays.DatetimeArray:
        return pd.array(values.view("datetime64[ns]"), dtype="datetime64[ns]").tz_localize("UTC")

    frame = pd.DataFrame(
        {
            "journey_id": np.arange(n, dtype=np.int64),
            "account_id": state.account_ids.array.take(res.journey_account),
            "opportunity_id": _take(pd.array(ev.opportunity_id, dtype=_STR), j_event),
            "converted": state.converted,
            "conversion_value": state.value,
            "converted_at": ts(conv_at),
            "first_touch_at": ts(state.time_ns[first]) if n else pd.array([], dtype=utc),
            "last_touch_at": ts(state.time_ns[last]) if n else pd.array([], dtype=utc),
            "n_touches": res.lengths,
            "path": state.path_strings.take(res.journey_path),
        }
    )
    return frame


# --------------------------------------------------------------------------- build


def build_journeys(
    touchpoints: pd.DataFrame | Mapping[str, pd.DataFrame] | Any,
    opportunities: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
    *,
    config: JourneyConfig | None = None,
) -> Journeys:
    """Build journeys and the path table from clean tables.

    Parameters
    ----------
    touchpoints : DataFrame, or a mapping of table name -> DataFrame (or an
        object with such a ``.tables`` mapping, like the synthetic dataset),
        in which case the other tables are taken from it.
        Columns used: touchpoint_id, account_id, timestamp (tz-aware),
        channel; signal and contact_id are carried to ``touches``.
    opportunities : DataFrame
        opportunity_id, account_id, amount, and created_at
        (``opportunity_created``) or is_won, closed_at (``closed_won``).
    accounts : DataFrame, optional
        Required when ``config.breakdowns`` is not empty.
    contacts : DataFrame, optional
        Gives ``buying_role`` in ``touches``.
    config : JourneyConfig, optional
        Defaults to ``JourneyConfig()``.

    Returns
    -------
    Journeys
        ``.paths``, ``.stats``, ``.direct_conversions``, and lazily
        ``.touches`` and ``.journeys``.

    Raises
    ------
    SchemaError
        A table or column is missing or a datetime column is not tz-aware.
    DataValidationError
        Empty touchpoints, empty required values, bad channel names.
    ConfigError
        Bad parameters, or unmapped channels with ``unmapped_channels="error"``.
    JourneyInvariantError
        An accounting identity failed (a bug).
    """
    config = JourneyConfig() if config is None else config
    if not isinstance(config, JourneyConfig):
        raise ConfigError(
            f"journeys: config must be a JourneyConfig, got {type(config).__name__} "
            "(use JourneyConfig.from_dict for a mapping)"
        )
    tp, opp, accounts, contacts = _resolve_tables(touchpoints, opportunities, accounts, contacts)
    _require(tp, "touchpoints", ["touchpoint_id", "account_id", "timestamp", "channel"])
    conv_col = "created_at" if config.conversion == "opportunity_created" else "closed_at"
    opp_cols = ["opportunity_id", "account_id", "amount", conv_col]
    if config.conversion == "closed_won":
        opp_cols.append("is_won")
    _require(opp, "opportunities", opp_cols)
    if config.breakdowns:
        if accounts is None:
            raise SchemaError(
                f"journeys: breakdowns {', '.join(config.breakdowns)} need the accounts "
                "table; pass accounts=..."
            )
        _require(accounts, "accounts", ["account_id", *config.breakdowns])
    if len(tp) == 0:
        raise DataValidationError(
            "journeys: the touchpoints table is empty; there is no journey to build"
        )
    if tp["touchpoint_id"].isna().any():
        row = int(np.flatnonzero(tp["touchpoint_id"].isna().to_numpy())[0])
        raise DataValidationError(
            f"journeys: touchpoints.touchpoint_id row {row} is empty; the contract "
            "requires an id"
        )

    time_ns = _datetime_ns(tp, "touchpoints", "timestamp", nullable=False)
    account, account_ids = _codes(tp["account_id"], "touchpoints", "account_id")
    raw_channel, raw_names = _codes(tp["channel"], "touchpoints", "channel")
    channel_map, group_names, unmapped = _channel_map(raw_names, config)
    small = np.int8 if len(raw_names) < 2**7 else np.int16 if len(raw_names) < 2**15 else np.int32
    raw_channel = raw_channel.astype(small)
    n_touch_accounts = len(account_ids)

    # Conversion events.
    ev_time_all = _datetime_ns(opp, "opportunities", conv_col, nullable=config.conversion == "closed_won")
    won_without_closed_at = 0
    if config.conversion == "closed_won":
        won = opp["is_won"].to_numpy(dtype=bool, na_value=False)
        has_time = ev_time_all != _NAT
        won_without_closed_at = int((won & ~has_time).sum())
        is_event = won & has_time
    else:
        is_event = np.ones(len(opp), dtype=bool)
    max_event = int(ev_time_all[is_event].max()) if is_event.any() else _NAT
    if config.observation_end is None:
        end_ns = max(int(time_ns.max()), max_event)
    else:
        end_ns = int(pd.Timestamp(config.observation_end).value)
    after_end = is_event & (ev_time_all > end_ns)
    is_event &= ~after_end
    sel = np.flatnonzero(is_event)
    ev_opp = opp["opportunity_id"].array.take(sel)
    ev_acct_ids = opp["account_id"].array.take(sel)
    if pd.isna(ev_acct_ids).any() or pd.isna(ev_opp).any():
        raise DataValidationError(
            "journeys: opportunities has an empty opportunity_id or account_id; the "
            "contract requires both (validate the table with features.validation first)"
        )
    ev_acct = account_ids.get_indexer(pd.Index(ev_acct_ids)).astype(np.int64)
    unknown = ev_acct < 0
    if unknown.any():
        extra_codes, extra_ids = pd.factorize(pd.Index(ev_acct_ids)[unknown], sort=True)
        ev_acct[unknown] = n_touch_accounts + extra_codes
        account_ids = account_ids.append(pd.Index(extra_ids))
    ev_time = ev_time_all[sel]
    amount = pd.to_numeric(opp["amount"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)[sel]
    no_amount = ~np.isfinite(amount)
    ev_value = np.where(no_amount, 0.0, amount)
    ev_rank = pd.factorize(ev_opp, sort=True)[0]
    ev_order = np.lexsort((ev_rank, ev_time, ev_acct))
    events = _Events(
        account=ev_acct[ev_order],
        time_ns=ev_time[ev_order],
        value=ev_value[ev_order],
        opportunity_id=ev_opp.take(ev_order),
        account_id=ev_acct_ids.take(ev_order),
    )
    tp_ids = tp["touchpoint_id"].array

    def tie_rank(rows: np.ndarray) -> np.ndarray:
        return pd.factorize(tp_ids.take(rows), sort=True)[0]

    lookback_ns = None if config.lookback_days is None else int(round(config.lookback_days * _NS_PER_DAY))
    result = run_engine(
        account=account,
        n_touch_accounts=n_touch_accounts,
        n_accounts=len(account_ids),
        time_ns=time_ns,
        channel=raw_channel,
        channel_map=channel_map,
        tie_rank=tie_rank,
        event_account=events.account,
        event_time_ns=events.time_ns,
        observation_end_ns=end_ns,
        lookback_ns=lookback_ns,
        collapse_repeats=bool(config.collapse_repeats),
        max_path_length=config.max_path_length,
    )

    j_event = result.journey_event
    converted = j_event >= 0
    value = np.where(converted, events.value[np.maximum(j_event, 0)] if len(events.value) else 0.0, 0.0)
    path_arrow = _path_strings(group_names, result)
    path_strings = pd.array(path_arrow, dtype=_STR) if len(path_arrow) else pd.array([], dtype=_STR)
    path_lengths = result.lengths[result.path_rep]
    state = _State(
        result=result,
        touchpoints=tp,
        contacts=contacts,
        accounts=accounts,
        account_ids=account_ids,
        raw_channel=raw_channel,
        raw_names=raw_names,
        group_names=group_names,
        time_ns=time_ns,
        events=events,
        path_strings=path_strings,
        path_arrow=path_arrow,
        path_lengths=path_lengths,
        converted=converted,
        value=value,
    )
    paths = _aggregate(state, config.breakdowns, accounts)

    direct = np.flatnonzero(result.event_touches == 0)
    direct_conversions = pd.DataFrame(
        {
            "opportunity_id": pd.array(events.opportunity_id.take(direct), dtype=_STR),
            "account_id": pd.array(events.account_id.take(direct), dtype=_STR),
            "converted_at": pd.to_datetime(events.time_ns[direct], unit="ns", utc=True),
            "conversion_value": events.value[direct],
        }
    )
    n_conv = int(converted.sum())
    stats = JourneyStats(
        touches_in=len(tp),
        touches_in_journeys=len(result.rows),
        touches_outside_window=len(tp) - result.touches_in_windows,
        touches_collapsed=result.touches_collapsed,
        touches_dropped_by_max_length=result.touches_dropped_by_max_length,
        journeys=result.n_journeys,
        converting=n_conv,
        non_converting=result.n_journeys - n_conv,
        conversions=len(sel),
        conversions_without_touches=len(direct),
        conversions_after_observation_end=int(after_end.sum()),
        won_without_closed_at=won_without_closed_at,
        conversions_without_amount=int(no_amount.sum()),
        distinct_paths=len(result.path_rep),
        tied_touches=result.tied_rows,
        unmapped_channels=unmapped if config.channel_groups is not None else (),
        observation_end=pd.Timestamp(end_ns, unit="ns", tz="UTC"),
    )
    _check_accounting(stats, paths, state)
    logger.debug("journeys built: %s", stats)
    return Journeys(
        paths=paths,
        stats=stats,
        config=config,
        direct_conversions=direct_conversions,
        _state=state,
    )


def _check_accounting(stats: JourneyStats, paths: pd.DataFrame, state: _State) -> None:
    """Raise :class:`JourneyInvariantError` when an identity fails (a bug)."""
    s = stats
    counts = paths["total_conversions"].to_numpy() + paths["total_null"].to_numpy()
    by_path = np.bincount(state.result.journey_path, minlength=len(state.path_lengths))
    failures = []
    lhs = s.touches_in_journeys + s.touches_collapsed + s.touches_dropped_by_max_length
    if s.touches_in != lhs + s.touches_outside_window:
        failures.append(
            f"touches_in {s.touches_in} != in journeys {s.touches_in_journeys} + collapsed "
            f"{s.touches_collapsed} + dropped {s.touches_dropped_by_max_length} + outside "
            f"{s.touches_outside_window}"
        )
    if int(counts.sum()) != s.journeys or s.journeys != s.converting + s.non_converting:
        failures.append(f"path counts {int(counts.sum())} != journeys {s.journeys}")
    if int(paths["total_conversions"].sum()) != s.converting:
        failures.append("total_conversions does not sum to the converting journeys")
    if int((state.path_lengths * by_path).sum()) != s.touches_in_journeys:
        failures.append("path lengths x counts != touches_in_journeys")
    if s.converting + s.conversions_without_touches != s.conversions:
        failures.append(
            f"converting {s.converting} + without touches {s.conversions_without_touches} "
            f"!= conversions {s.conversions}"
        )
    if failures:
        raise JourneyInvariantError("journeys accounting broken (a bug): " + "; ".join(failures))
