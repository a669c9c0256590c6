"""Input checks, integer encoding, decayed exposures and labels.

Everything here is a pure function of the clean tables of
:mod:`features.contracts` and a few parameters; the estimators of this package
call it, nothing else reads raw tables.

Exposure
--------
For account ``a``, signal ``s`` and as-of date ``T`` (ns, UTC), over the touches
``i`` of the account with ``t_i <= T``:

.. math::

    E_{as}(T) = \\sum_{i:\\ s_i = s,\\ t_i \\le T} m_i \\,
        \\rho^{c_a(t_i, T)} \\, 2^{-(T - t_i)/h}

with ``h`` the half-life, ``m_i`` the touch multiplier (``role[r_i] x
seniority[q_i]`` for a touch of a known contact, ``anonymous`` otherwise),
``rho`` the share of engagement kept when an opportunity of the account closes
and ``c_a(t, T)`` the number of the account's opportunities closed in
``(t, T]`` (``rho = 1``: no reset). Touches time-stamped while an opportunity
of the account was open (``created_at <= t < closed_at``) are sales-cycle
activity, a consequence of the pipeline rather than a cause, and are left out
when ``exclude_open_touches`` (the default).

Computed for sorted as-of dates ``T_1 < ... < T_K`` by the recursion
``E(T_k) = 2^{-(T_k - T_{k-1})/h} E(T_{k-1}) + sum_{T_{k-1} < t_i <= T_k} ...``
with one ``bincount`` per date: cost ``O(n_touches + K x A x S)``.

Labels and the at-risk set
--------------------------
``opportunity_created``: ``y = 1`` iff the account has an opportunity with
``T < created_at <= T + H``. ``closed_won``: iff it has a won opportunity with
``T < closed_at <= T + H``. An account-date is *at risk* iff no opportunity of
the account is open at ``T`` (``created_at <= T < closed_at``, a missing
``closed_at`` meaning still open).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.contracts import ABM_TIERS, BUYING_ROLES, SENIORITIES
from features.dates import to_utc
from features.errors import ConfigError, DataValidationError, SchemaError

NS_PER_DAY = 86_400 * 10**9
TARGETS: tuple[str, ...] = ("opportunity_created", "closed_won")
_NEVER = np.iinfo(np.int64).max

_NEEDED: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id", "abm_tier"),
    "contacts": ("contact_id", "account_id", "buying_role", "seniority"),
    "touchpoints": ("account_id", "contact_id", "timestamp", "channel", "signal"),
    "opportunities": ("account_id", "created_at", "closed_at", "is_won"),
}


# --------------------------------------------------------------------------
# checks


def check_tables(tables: Any, who: str) -> None:
    """Refuse missing tables or columns and empty tables, naming the fix."""
    if not isinstance(tables, Mapping):
        raise SchemaError(
            f"{who}: tables must be a mapping of table name to DataFrame "
            f"(e.g. generate_dataset(...).tables), got {type(tables).__name__}"
        )
    for name, cols in _NEEDED.items():
        if name not in tables:
            raise SchemaError(
                f"{who}: the table {name!r} is missing (got {', '.join(sorted(tables))}); "
                f"load it with features.loading"
            )
        df = tables[name]
        if not isinstance(df, pd.DataFrame):
            raise SchemaError(f"{who}: {name} must be a DataFrame, got {type(df).__name__}")
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise SchemaError(
                f"{who}: {name} is missing column(s) {', '.join(missing)} "
                f"(has: {', '.join(map(str, df.columns))}); rename them or load the "
                f"table with features.loading"
            )
    for name in ("accounts", "touchpoints"):
        if len(tables[name]) == 0:
            raise DataValidationError(
                f"{who}: the {name} table is empty; engagement weights need accounts "
                f"and their touchpoints (check the export or the date filter)"
            )


def check_target(target: Any, who: str) -> str:
    if target not in TARGETS:
        raise ConfigError(
            f"{who}: unknown target {target!r}; use one of {', '.join(TARGETS)}"
        )
    return str(target)


def check_positive(value: Any, name: str, who: str, *, integer: bool = False) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool
    )
    if ok:
        ok = bool(np.isfinite(value) and value > 0) and (
            not integer or float(value).is_integer()
        )
    if not ok:
        kind = "a positive whole number" if integer else "a positive number"
        raise ConfigError(f"{who}: {name} must be {kind}, got {value!r}")


def to_ns(value: Any, who: str) -> int:
    return int(to_utc(value, f"{who}: as-of date").value)


def dates_ns(as_of_dates: Any, who: str) -> np.ndarray:
    """Sorted unique as-of dates as int64 ns; refuses a bare date or empty list."""
    if isinstance(as_of_dates, (str, pd.Timestamp)) or not hasattr(as_of_dates, "__len__"):
        raise ConfigError(
            f"{who}: as_of_dates must be a sequence of dates, got {as_of_dates!r} "
            f"(e.g. pd.date_range('2024-06-03', '2025-06-02', freq='7D'))"
        )
    out = np.unique(np.array([to_ns(d, who) for d in as_of_dates], dtype=np.int64))
    if out.size == 0:
        raise ConfigError(f"{who}: as_of_dates is empty; give at least one as-of date")
    return out


def slug(value: str) -> str:
    """Column-name form of a label (as :mod:`features.signals`)."""
    return re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_") or "blank"


def iso(ns: int) -> str:
    return pd.Timestamp(int(ns), tz="UTC").strftime("%Y-%m-%d")


# --------------------------------------------------------------------------
# encoding


@dataclass(frozen=True)
class Encoded:
    """Integer-coded tables (touches sorted by time)."""

    account_ids: pd.Index
    tier: np.ndarray  # (A,) code in ABM_TIERS
    signals: tuple[str, ...]
    signal_channel: tuple[str, ...]
    t: np.ndarray  # (n,) int64 ns ascending
    account: np.ndarray  # (n,) intp
    signal: np.ndarray  # (n,) intp, -1 when outside the vocabulary
    role: np.ndarray  # (n,) intp in BUYING_ROLES, -1 anonymous
    seniority: np.ndarray  # (n,) intp in SENIORITIES, -1 anonymous
    open_at_touch: np.ndarray  # (n,) bool: an opportunity was open
    closes_before: np.ndarray  # (n,) int: closes of the account at or before t
    opp_account: np.ndarray  # (m,) intp
    opp_created: np.ndarray  # (m,) int64
    opp_closed: np.ndarray  # (m,) int64, _NEVER when open
    opp_won: np.ndarray  # (m,) bool
    data_start: int
    data_end: int
    accounts_frame: pd.DataFrame

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)


def _times(series: pd.Series, name: str, who: str, *, nullable: bool) -> np.ndarray:
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise SchemaError(
            f"{who}: {name} must be tz-aware datetimes (UTC), got dtype {series.dtype}; "
            f"load the table with features.loading"
        )
    vals = series.dt.tz_convert("UTC").dt.as_unit("ns")
    na = vals.isna().to_numpy()
    if na.any() and not nullable:
        raise DataValidationError(
            f"{who}: {name} has {int(na.sum())} missing value(s); validate the table "
            f"with features.validation (it quarantines them)"
        )
    arr = vals.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    arr[na] = _NEVER
    return arr


def _codes(values: pd.Series, vocab: Sequence[str]) -> np.ndarray:
    return pd.Index(list(vocab), dtype=object).get_indexer(
        pd.Index(values.astype(object), dtype=object)
    ).astype(np.intp)


def encode(
    tables: Mapping[str, pd.DataFrame],
    who: str,
    *,
    signals: Sequence[str] | None = None,
) -> Encoded:
    """Integer-code the four tables the engagement models read."""
    check_tables(tables, who)
    accounts, contacts = tables["accounts"], tables["contacts"]
    touch, opps = tables["touchpoints"], tables["opportunities"]
    account_ids = pd.Index(accounts["account_id"].astype(object), dtype=object)
    if account_ids.has_duplicates:
        raise DataValidationError(
            f"{who}: accounts.account_id has duplicates (e.g. "
            f"{account_ids[account_ids.duplicated()][:3].tolist()}); validate the table"
        )
    tier = _codes(accounts["abm_tier"], ABM_TIERS)
    if (tier < 0).any():
        bad = accounts["abm_tier"][tier < 0].unique()[:3].tolist()
        raise DataValidationError(
            f"{who}: accounts.abm_tier has values outside {', '.join(ABM_TIERS)} "
            f"(e.g. {bad}); validate the table with features.validation"
        )

    t = _times(touch["timestamp"], "touchpoints.timestamp", who, nullable=False)
    order = np.argsort(t, kind="stable") if np.any(np.diff(t) < 0) else None
    acc = account_ids.get_indexer(pd.Index(touch["account_id"].astype(object), dtype=object))
    if (acc < 0).any():
        bad = touch["account_id"][acc < 0].unique()[:3].tolist()
        raise DataValidationError(
            f"{who}: {int((acc < 0).sum())} touchpoint(s) name an account_id not in "
            f"accounts (e.g. {bad}); validate the tables with features.validation"
        )
    if signals is None:
        signals = tuple(sorted(map(str, pd.unique(touch["signal"].dropna()))))
    signals = tuple(signals)
    sig = _codes(touch["signal"], signals)
    pair = touch[["signal", "channel"]].drop_duplicates("signal")
    chan_map = dict(zip(pair["signal"].astype(str), pair["channel"].astype(str)))
    signal_channel = tuple(chan_map.get(s, "") for s in signals)

    contact_ids = pd.Index(contacts["contact_id"].astype(object), dtype=object)
    c_idx = contact_ids.get_indexer(pd.Index(touch["contact_id"].astype(object), dtype=object))
    named = touch["contact_id"].notna().to_numpy()
    if (named & (c_idx < 0)).any():
        bad = touch["contact_id"][named & (c_idx < 0)].unique()[:3].tolist()
        raise DataValidationError(
            f"{who}: touchpoints name contact_id(s) not in contacts (e.g. {bad}); "
            f"validate the tables with features.validation"
        )
    c_role = _codes(contacts["buying_role"], BUYING_ROLES)
    c_sen = _codes(contacts["seniority"].fillna("unknown"), SENIORITIES)
    c_sen = np.where(c_sen < 0, SENIORITIES.index("unknown"), c_sen)
    c_role = np.where(c_role < 0, BUYING_ROLES.index("unknown"), c_role)
    role = np.where(c_idx >= 0, c_role[np.maximum(c_idx, 0)], -1).astype(np.intp)
    sen = np.where(c_idx >= 0, c_sen[np.maximum(c_idx, 0)], -1).astype(np.intp)

    if order is not None:
        t, acc, sig, role, sen = t[order], acc[order], sig[order], role[order], sen[order]

    o_acc = account_ids.get_indexer(pd.Index(opps["account_id"].astype(object), dtype=object))
    if (o_acc < 0).any():
        bad = opps["account_id"][o_acc < 0].unique()[:3].tolist()
        raise DataValidationError(
            f"{who}: opportunities name account_id(s) not in accounts (e.g. {bad}); "
            f"validate the tables with features.validation"
        )
    o_created = _times(opps["created_at"], "opportunities.created_at", who, nullable=False)
    o_closed = _times(opps["closed_at"], "opportunities.closed_at", who, nullable=True)
    o_won = opps["is_won"].fillna(False).to_numpy(dtype=bool)

    open_at, closes = _touch_opportunity_state(t, acc, o_acc, o_created, o_closed)
    ends = [t[-1]] + [o_created.max()] if len(o_created) else [t[-1]]
    closed_known = o_closed[o_closed != _NEVER]
    if closed_known.size:
        ends.append(closed_known.max())
    return Encoded(
        account_ids=account_ids,
        tier=tier,
        signals=signals,
        signal_channel=signal_channel,
        t=t,
        account=acc.astype(np.intp),
        signal=sig,
        role=role,
        seniority=sen,
        open_at_touch=open_at,
        closes_before=closes,
        opp_account=o_acc.astype(np.intp),
        opp_created=o_created,
        opp_closed=o_closed,
        opp_won=o_won,
        data_start=int(t[0]),
        data_end=int(max(ends)),
        accounts_frame=accounts,
    )


def _touch_opportunity_state(
    t: np.ndarray,
    acc: np.ndarray,
    o_acc: np.ndarray,
    o_created: np.ndarray,
    o_closed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per touch: was an opportunity of its account open; closes at or before it."""
    span = np.int64(2) ** 40  # keys account * span + time offset never collide
    base = min(int(t.min()), int(o_created.min()) if len(o_created) else int(t.min()))
    key_t = acc.astype(np.int64) * span + (t - base) // 10**6  # ms resolution
    closed = o_closed != _NEVER
    key_c = np.sort(o_acc[closed].astype(np.int64) * span + (o_closed[closed] - base) // 10**6)
    closes = np.searchsorted(key_c, key_t, side="right") - np.searchsorted(
        key_c, acc.astype(np.int64) * span, side="left"
    )
    key_o = np.sort(o_acc.astype(np.int64) * span + (o_created - base) // 10**6)
    opened = np.searchsorted(key_o, key_t, side="right") - np.searchsorted(
        key_o, acc.astype(np.int64) * span, side="left"
    )
    return opened > closes, closes.astype(np.int64)


# --------------------------------------------------------------------------
# exposures


def touch_multipliers(
    enc: Encoded,
    role: np.ndarray,
    seniority: np.ndarray,
    anonymous: float,
) -> np.ndarray:
    """``m_i`` of every touch: role x seniority, or the anonymous multiplier."""
    named = enc.role >= 0
    m = np.full(len(enc.t), float(anonymous))
    m[named] = role[enc.role[named]] * seniority[enc.seniority[named]]
    return m


def decayed_sums(
    t: np.ndarray,
    group: np.ndarray,
    weight: np.ndarray,
    n_groups: int,
    queries: np.ndarray,
    half_life_days: float,
) -> np.ndarray:
    """``D[k, g] = sum_{i: g_i = g, t_i <= T_k} w_i 2^{-(T_k - t_i)/h}``, shape (K, G).

    ``t`` ascending, ``queries`` ascending; one bincount per as-of date.
    """
    h = half_life_days * NS_PER_DAY
    out = np.zeros((len(queries), n_groups))
    state = np.zeros(n_groups)
    cuts = np.searchsorted(t, queries, side="right")
    lo, prev = 0, None
    for k, (q, hi) in enumerate(zip(queries, cuts)):
        if prev is not None:
            state *= 2.0 ** (-(q - prev) / h)
        if hi > lo:
            w = weight[lo:hi] * np.exp2(-(q - t[lo:hi]) / h)
            state += np.bincount(group[lo:hi], weights=w, minlength=n_groups)
        out[k] = state
        lo, prev = hi, q
    return out


@dataclass(frozen=True)
class ExposureSpec:
    """How touches become exposures (the parameters of the module docstring)."""

    half_life_days: float
    role: np.ndarray  # (R,) multipliers in BUYING_ROLES order
    seniority: np.ndarray  # (Q,) in SENIORITIES order
    anonymous: float = 1.0
    reset_on_close: float = 1.0
    exclude_open_touches: bool = True


def _kept(enc: Encoded, spec: ExposureSpec) -> np.ndarray:
    keep = enc.signal >= 0
    if spec.exclude_open_touches:
        keep &= ~enc.open_at_touch
    return keep


def _closes_at(enc: Encoded, queries: np.ndarray) -> np.ndarray:
    """(K, A) number of closed opportunities of each account at or before T_k."""
    closed = enc.opp_closed != _NEVER
    out = np.zeros((len(queries), enc.n_accounts), dtype=np.int64)
    k = np.searchsorted(queries, enc.opp_closed[closed], side="left")
    sel = k < len(queries)
    np.add.at(out, (k[sel], enc.opp_account[closed][sel]), 1)
    return np.cumsum(out, axis=0)


def exposure_panel(enc: Encoded, queries: np.ndarray, spec: ExposureSpec) -> np.ndarray:
    """``E[k, a, s]`` of the module docstring, shape (K, A, S)."""
    A, S = enc.n_accounts, len(enc.signals)
    keep = _kept(enc, spec)
    m = touch_multipliers(enc, spec.role, spec.seniority, spec.anonymous)[keep]
    rho = float(spec.reset_on_close)
    if rho != 1.0:
        m = m * rho ** (-enc.closes_before[keep].astype(np.float64))
    g = enc.account[keep] * S + enc.signal[keep]
    D = decayed_sums(enc.t[keep], g, m, A * S, queries, spec.half_life_days)
    D = D.reshape(len(queries), A, S)
    if rho != 1.0:
        D *= (rho ** _closes_at(enc, queries).astype(np.float64))[:, :, None]
    return D


N_CELLS = len(BUYING_ROLES) * len(SENIORITIES) + 1  # + anonymous


def cell_rows(
    enc: Encoded,
    queries: np.ndarray,
    row_k: np.ndarray,
    row_a: np.ndarray,
    spec: ExposureSpec,
) -> sp.csr_matrix:
    """Unweighted decayed sums per (signal, role x seniority cell) for some rows.

    Rows ``(row_k[j], row_a[j])`` (date index, account index), ``row_k``
    non-decreasing. Returns a CSR matrix of shape (n_rows, S * N_CELLS): column
    ``s * N_CELLS + c`` with cell ``c = r * Q + q`` for a known contact of role
    ``r`` and seniority ``q`` and the last cell for anonymous touches. The
    role and seniority multipliers of ``spec`` are ignored (they are what the
    caller estimates from these sums).
    """
    S, Q = len(enc.signals), len(SENIORITIES)
    accounts = np.unique(row_a)
    local = np.full(enc.n_accounts, -1, dtype=np.intp)
    local[accounts] = np.arange(len(accounts))
    keep = _kept(enc, spec) & (local[enc.account] >= 0)
    cell = np.where(enc.role >= 0, enc.role * Q + enc.seniority, N_CELLS - 1)[keep]
    w = np.ones(int(keep.sum()))
    rho = float(spec.reset_on_close)
    if rho != 1.0:
        w = w * rho ** (-enc.closes_before[keep].astype(np.float64))
        closes = _closes_at(enc, queries)
    g = (local[enc.account[keep]] * S + enc.signal[keep]) * N_CELLS + cell
    t = enc.t[keep]
    width = S * N_CELLS
    h = spec.half_life_days * NS_PER_DAY
    state = np.zeros(len(accounts) * width)
    cuts = np.searchsorted(t, queries, side="right")
    bounds = np.searchsorted(row_k, np.arange(len(queries) + 1), side="left")
    blocks = []
    lo, prev = 0, None
    for k, (q, hi) in enumerate(zip(queries, cuts)):
        if prev is not None:
            state *= 2.0 ** (-(q - prev) / h)
        if hi > lo:
            dw = w[lo:hi] * np.exp2(-(q - t[lo:hi]) / h)
            state += np.bincount(g[lo:hi], weights=dw, minlength=state.size)
        lo, prev = hi, q
        a = row_a[bounds[k] : bounds[k + 1]]
        if len(a):
            block = state.reshape(len(accounts), width)[local[a]]
            if rho != 1.0:
                block = block * (rho ** closes[k, a].astype(np.float64))[:, None]
            blocks.append(sp.csr_matrix(block))
    if not blocks:
        return sp.csr_matrix((0, width))
    return sp.vstack(blocks, format="csr")


# --------------------------------------------------------------------------
# labels and the at-risk set


def labels_and_risk(
    enc: Encoded, queries: np.ndarray, horizon_days: float, target: str
) -> tuple[np.ndarray, np.ndarray]:
    """``y`` (K, A) int8 and ``at_risk`` (K, A) bool for sorted as-of dates."""
    K, A = len(queries), enc.n_accounts
    H = int(round(horizon_days * NS_PER_DAY))
    y = np.zeros((K, A), dtype=np.int8)
    open_ = np.zeros((K, A), dtype=bool)
    if len(enc.opp_account) == 0:
        return y, ~open_
    # event time e: y[k, a] = 1 iff some event of a has T_k < e <= T_k + H
    if target == "opportunity_created":
        ev_t, ev_a = enc.opp_created, enc.opp_account
    else:
        won = enc.opp_won & (enc.opp_closed != _NEVER)
        ev_t, ev_a = enc.opp_closed[won], enc.opp_account[won]
    # the dates k with T_k in [e - H, e): a contiguous range per event
    k_lo = np.searchsorted(queries, ev_t - H, side="left")
    k_hi = np.searchsorted(queries, ev_t, side="left")
    _mark_ranges(y, k_lo, k_hi, ev_a)
    # open at T_k: created_at <= T_k < closed_at
    o_lo = np.searchsorted(queries, enc.opp_created, side="left")
    o_hi = np.searchsorted(queries, enc.opp_closed, side="right")
    _mark_ranges(open_, o_lo, o_hi, enc.opp_account)
    return y, ~open_


def _mark_ranges(
    out: np.ndarray, lo: np.ndarray, hi: np.ndarray, col: np.ndarray
) -> None:
    """Set ``out[k, col_j] = 1`` for ``lo_j <= k < hi_j`` (vectorised)."""
    n = np.maximum(hi - lo, 0)
    if n.sum() == 0:
        return
    rows = np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    out[rows, np.repeat(col, n)] = 1


def check_dates_in_data(
    enc: Encoded, queries: np.ndarray, horizon_days: float | None, who: str
) -> None:
    """As-of dates must lie in the data; with a horizon, labels must be observed."""
    lo, hi = enc.data_start, enc.data_end
    if queries[0] < lo or queries[-1] > hi:
        raise ConfigError(
            f"{who}: as-of dates {iso(queries[0])} .. {iso(queries[-1])} fall outside "
            f"the data ({iso(lo)} .. {iso(hi)}); choose dates inside it"
        )
    if horizon_days is not None:
        H = int(round(horizon_days * NS_PER_DAY))
        if queries[-1] + H > hi:
            raise ConfigError(
                f"{who}: the last as-of date {iso(queries[-1])} plus the horizon of "
                f"{horizon_days:g} days ends after the data ({iso(hi)}), so its labels "
                f"are censored; use as-of dates up to {iso(hi - H)} or shorten "
                f"horizon_days"
            )


# --------------------------------------------------------------------------
# firmographic controls


def firmographic_design(
    accounts: pd.DataFrame, levels: dict[str, list[str]] | None = None
) -> tuple[np.ndarray, list[str], dict[str, list[str]]]:
    """Account controls: standardised log revenue, its missing flag, one-hots.

    ``size = (log10(annual_revenue) - 8) / 0.8`` (0 when missing, with a
    ``revenue_missing`` flag); one-hot columns of ``segment``, ``industry``,
    ``region`` and ``business_unit`` for every level but the most frequent one
    (the reference) of the training tables; levels unseen in training are the
    reference. Columns missing from ``accounts`` are skipped.
    """
    cols: list[np.ndarray] = []
    names: list[str] = []
    if "annual_revenue" in accounts.columns:
        rev = pd.to_numeric(accounts["annual_revenue"], errors="coerce").to_numpy(float)
        ok = np.isfinite(rev) & (rev > 0)
        size = np.zeros(len(rev))
        size[ok] = (np.log10(rev[ok]) - 8.0) / 0.8
        cols += [size, (~ok).astype(float)]
        names += ["size", "revenue_missing"]
    fitted = levels is None
    levels = {} if levels is None else levels
    for col in ("segment", "industry", "region", "business_unit"):
        if col not in accounts.columns:
            continue
        values = accounts[col].astype(object).fillna("unknown").astype(str)
        if fitted:
            counts = values.value_counts()
            levels[col] = sorted(counts.index[1:].tolist())  # drop the most frequent
        for lev in levels.get(col, []):
            cols.append((values == lev).to_numpy(float))
            names.append(f"{col}={lev}")
    X = np.column_stack(cols) if cols else np.zeros((len(accounts), 0))
    return X, names, levels


def tier_design(tier: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """One-hot ABM tier, reference ``none``."""
    tiers = [t for t in ABM_TIERS if t != "none"]
    X = np.column_stack([(tier == ABM_TIERS.index(t)).astype(float) for t in tiers])
    return X, [f"tier={t}" for t in tiers]
