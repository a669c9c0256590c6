"""Integer-array engine of :mod:`features.journeys` (private).

Everything here works on integer-coded numpy arrays; no Python loop runs per
touchpoint or per journey. The public module validates the tables, codes them
(accounts, channels, times as int64 nanoseconds) and turns the arrays returned
here back into DataFrames.

Algorithm
---------
1. **Time coordinates.** Touch times are mapped to small non-negative integers
   that preserve order: ``(t - t_min) // step`` where ``step`` is the coarsest
   of 1 day, 1 h, 1 min, 1 s, 1 ms, 1 us, 1 ns that divides every offset, or,
   when even that does not fit, dense ranks of the distinct times. Bounds of
   windows (event times, ``event - lookback``, ``observation_end``) are
   converted with ``floor`` (upper bounds) or ``ceil`` (lower bounds), so
   ``t <= x`` and ``t >= x`` are exact in coordinates.
2. **One sort.** ``key = account << bits_t | coordinate`` (int64). When
   ``key << bits_row | row`` fits in 64 bits the keys are sorted by value
   (SIMD sort, about twice as fast as ``argsort``) and the row index is read
   back from the low bits; otherwise a stable ``argsort``. Rows with equal
   keys (same account, same instant) are then re-ordered by the caller's
   tie-break rank (touchpoint_id), only on those rows.
3. **Windows as ranges.** After the sort every journey is a contiguous range
   of sorted touches, found with ``np.searchsorted`` on the sorted keys, per
   *event* and per *account* (tens of thousands of searches, not millions):
   event ``e`` of account ``a`` at time ``T`` covers keys in
   ``(a, max(T_prev, T - lookback)) .. (a, T)`` (previous event excluded,
   both window ends included); the non-converting tail of ``a`` covers
   ``(a, max(T_last, end - lookback)) .. (a, end)``.
4. **Per-touch arrays** of the touches inside ranges (``np.repeat`` of range
   starts plus an ``arange``), then collapse of consecutive repeats and the
   ``max_path_length`` cut as boolean masks over journey offsets.
5. **Distinct paths.** Each journey's code sequence is hashed as
   ``sum_i mix64(pos_i * K + code_i + 1 + salt)`` (mod 2**64) with
   ``np.add.reduceat``; ``mix64`` is the SplitMix64 finaliser (a bijection),
   i.e. a Zobrist-style hash of (position, channel) pairs. ``np.unique`` of
   the hashes groups journeys; the grouping is then **verified exactly**
   (same length and same code at every position as the group's
   representative). On a collision the hash is recomputed with another salt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["EngineResult", "JourneyInvariantError", "run_engine"]

_STEPS_NS: tuple[int, ...] = (
    86_400 * 10**9,
    3_600 * 10**9,
    60 * 10**9,
    10**9,
    10**6,
    10**3,
    1,
)
_MAX_HASH_ATTEMPTS = 4


class JourneyInvariantError(RuntimeError):
    """A bookkeeping invariant of the journey builder is broken: this is a bug."""


@dataclass(frozen=True)
class _TimeCoder:
    """Order-preserving map from int64 nanoseconds to small coordinates."""

    origin: int
    step: int
    uniq: np.ndarray | None  # distinct times (rank mode) or None (scaled mode)
    bits: int

    @property
    def cap(self) -> int:
        return 1 << self.bits

    def upper(self, x: np.ndarray) -> np.ndarray:
        """Largest coordinate whose time is ``<= x`` (clipped to [-1, cap-1])."""
        x = np.asarray(x, dtype=np.int64)
        if self.uniq is None:
            c = np.floor_divide(x - self.origin, self.step)
        else:
            c = np.searchsorted(self.uniq, x, side="right").astype(np.int64) - 1
        return np.clip(c, -1, self.cap - 1)

    def lower(self, x: np.ndarray) -> np.ndarray:
        """Smallest coordinate whose time is ``>= x`` (clipped to [0, cap])."""
        x = np.asarray(x, dtype=np.int64)
        if self.uniq is None:
            c = -np.floor_divide(self.origin - x, self.step)
        else:
            c = np.searchsorted(self.uniq, x, side="left").astype(np.int64)
        return np.clip(c, 0, self.cap)


def _divides_all(rel: np.ndarray, step: int, chunk: int = 1 << 20) -> bool:
    """``rel % step == 0`` everywhere (chunked: no array as large as ``rel``)."""
    if step == 1:
        return True
    for i in range(0, len(rel), chunk):  # len(rel) / 2**20 iterations
        if np.remainder(rel[i : i + chunk], step).any():
            return False
    return True


def _time_coordinates(t: np.ndarray, bits_acct: int) -> tuple[_TimeCoder, np.ndarray]:
    """Code touch times ``t`` (int64 ns); return the coder and the coordinates."""
    origin = int(t.min())
    rel = t - origin
    span = int(rel.max())
    # Guess the step on a sample, then verify it on everything.
    sample = rel[:4096]
    for step in _STEPS_NS:
        if _divides_all(sample, step) and _divides_all(rel, step):
            break
    bits = max(1, (span // step).bit_length())
    if bits_acct + bits <= 62:
        if step > 1:
            np.floor_divide(rel, step, out=rel)
        return _TimeCoder(origin, step, None, bits), rel
    del rel
    uniq, coords = np.unique(t, return_inverse=True)
    bits = max(1, len(uniq).bit_length())
    if bits_acct + bits > 62:  # pragma: no cover - needs > 2**31 rows and accounts
        raise JourneyInvariantError(
            f"cannot pack {bits_acct} account bits and {bits} time bits in int64"
        )
    return _TimeCoder(origin, 1, uniq, bits), coords.astype(np.int64, copy=False)


def _sort_packed(
    keys: np.ndarray, bits_key: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Value-sort ``key << bits_row | row`` as uint64, **in place** on ``keys``.

    ``rows`` is a uint64 ``arange`` at least as long as ``keys``. Returns
    ``(order, sorted_keys)`` (``sorted_keys`` is ``keys``, re-used), or None
    when the packed key does not fit in 64 bits.
    """
    n = len(keys)
    bits_row = max(1, (n - 1).bit_length())
    if bits_key + bits_row > 64:
        return None
    packed = keys.view(np.uint64)
    packed <<= np.uint64(bits_row)
    packed |= rows[:n]
    packed.sort()
    order = packed & np.uint64((1 << bits_row) - 1)
    packed >>= np.uint64(bits_row)
    return order.view(np.int64), keys


def _sort_keys(keys: np.ndarray, bits_key: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(order, sorted_keys)`` of non-negative int64 keys < 2**bits_key.

    Equal keys keep their row order. ``keys`` is overwritten (it becomes
    ``sorted_keys``). Fast path: sort ``key << bits_row | row`` by value (SIMD
    sort, about twice as fast as ``argsort``). When that does not fit in 64
    bits, rows are first split into up to 2**16 buckets by the top bits of the
    key (a stable radix ``argsort`` of uint16 bucket ids): in a bucket the key
    loses the bucket bits and the row index needs only the bucket's size. A
    bucket that still does not fit falls back to ``argsort``.
    """
    n = len(keys)
    if bits_key + max(1, (n - 1).bit_length()) <= 64:
        return _sort_packed(keys, bits_key, np.arange(n, dtype=np.uint64))  # type: ignore[return-value]
    for split in range(1, min(bits_key, 16) + 1):
        bucket = (keys >> (bits_key - split)).astype(np.uint16)
        counts = np.bincount(bucket, minlength=1 << split)
        if bits_key - split + max(1, (int(counts.max()) - 1).bit_length()) <= 64:
            break
    perm = np.argsort(bucket, kind="stable")
    del bucket
    shift = bits_key - split
    grouped = keys[perm]
    grouped &= (1 << shift) - 1
    order = np.empty(n, dtype=np.int64)
    rows = np.arange(int(counts.max()), dtype=np.uint64)
    bounds = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    for b in np.flatnonzero(counts):  # at most 2**16 buckets, not per touch
        lo, hi = int(bounds[b]), int(bounds[b + 1])
        local = grouped[lo:hi]
        res = _sort_packed(local, shift, rows)
        if res is None:
            local_order = np.argsort(local, kind="stable")
            local[:] = local[local_order]
        else:
            local_order = res[0]
        np.take(perm[lo:hi], local_order, out=order[lo:hi])
        local |= int(b) << shift
    return order, grouped


def _break_ties(
    order: np.ndarray,
    sorted_keys: np.ndarray,
    tie_rank: Callable[[np.ndarray], np.ndarray],
) -> int:
    """Re-order rows with equal keys by ``tie_rank(rows)``, in place; return #rows."""
    eq = sorted_keys[1:] == sorted_keys[:-1]
    if not eq.any():
        return 0
    member = np.zeros(len(sorted_keys), dtype=bool)
    member[1:] |= eq
    member[:-1] |= eq
    pos = np.flatnonzero(member)
    new_group = np.ones(len(pos), dtype=bool)
    new_group[1:] = ~eq[pos[1:] - 1]
    group = np.cumsum(new_group)
    rows = order[pos]
    rank = np.asarray(tie_rank(rows))
    perm = np.lexsort((rank, group))
    order[pos] = rows[perm]
    return len(pos)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 (wrapping arithmetic), in place on ``x``."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _hash_paths(
    codes: np.ndarray, pos: np.ndarray, starts: np.ndarray, n_codes: int, salt: int
) -> np.ndarray:
    w = pos.astype(np.uint64) * np.uint64(n_codes + 1)
    w += codes.astype(np.uint64)
    w += np.uint64((salt * 0x9E3779B97F4A7C15 + 1) % (1 << 64))
    _mix64(w)
    return np.add.reduceat(w, starts)


@dataclass(frozen=True)
class EngineResult:
    """Journeys as integer arrays (touch arrays in journey order, CSR layout).

    Touch arrays have shape ``(m,)`` (touches kept in paths), journey arrays
    ``(J,)``, path arrays ``(P,)``; ``offsets`` is ``(J + 1,)``.
    """

    rows: np.ndarray  # original row index of each kept touch
    codes: np.ndarray  # channel (group) code of each kept touch
    journey: np.ndarray  # journey index of each kept touch
    position: np.ndarray  # 0-based position in its journey
    offsets: np.ndarray  # journey j is touches offsets[j]:offsets[j+1]
    journey_account: np.ndarray  # account code per journey
    journey_event: np.ndarray  # event index per journey, -1 if non-converting
    journey_path: np.ndarray  # path index per journey
    path_rep: np.ndarray  # representative journey per path
    event_touches: np.ndarray  # (E,) touches in each event's window (before collapse)
    touches_in_windows: int
    touches_collapsed: int
    touches_dropped_by_max_length: int
    tied_rows: int
    time_step_ns: int

    @property
    def n_journeys(self) -> int:
        return len(self.journey_account)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def path_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR ``(offsets, codes)`` of the distinct paths, in path-index order."""
        lengths = self.lengths[self.path_rep]
        offs = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offs[1:])
        src = np.repeat(self.offsets[self.path_rep] - offs[:-1], lengths)
        src += np.arange(offs[-1], dtype=np.int64)
        return offs, self.codes[src]


def _ranges_to_touches(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate ranges ``[lo_j, hi_j)``: (positions, journey index, offsets)."""
    lengths = hi - lo
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    positions = np.repeat(lo - offsets[:-1], lengths)
    positions += np.arange(total, dtype=np.int64)
    small = np.int32 if len(lengths) < 2**31 else np.int64
    journey = np.repeat(np.arange(len(lengths), dtype=small), lengths)
    return positions, journey, offsets


def _compress(keep: np.ndarray, journey: np.ndarray, n_journeys: int, *arrays: np.ndarray):
    journey = journey[keep]
    lengths = np.bincount(journey, minlength=n_journeys)
    offsets = np.zeros(n_journeys + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return (journey, offsets, *(a[keep] for a in arrays))


def run_engine(
    *,
    account: np.ndarray,
    n_touch_accounts: int,
    n_accounts: int,
    time_ns: np.ndarray,
    channel: np.ndarray,
    channel_map: np.ndarray,
    tie_rank: Callable[[np.ndarray], np.ndarray],
    event_account: np.ndarray,
    event_time_ns: np.ndarray,
    observation_end_ns: int,
    lookback_ns: int | None,
    collapse_repeats: bool,
    max_path_length: int | None,
) -> EngineResult:
    """Assign touches to journeys and group journeys into distinct paths.

    Parameters
    ----------
    account : (n,) int64, account code of each touch in ``[0, n_touch_accounts)``.
    n_touch_accounts : number of accounts having touches (codes ``0..A-1``).
    n_accounts : number of account codes overall (events may use codes >= A).
    time_ns : (n,) int64, touch times in ns since the epoch (UTC).
    channel : (n,) int, raw channel code of each touch.
    channel_map : (n_raw_channels,) int, raw code -> path (group) code.
    tie_rank : rows -> rank used to order touches of one account at one instant.
    event_account, event_time_ns : (E,) conversion events, sorted by
        (account, time, tie-break); all at or before ``observation_end_ns``.
    observation_end_ns : end of the observation window (ns).
    lookback_ns : window length (ns), ``None`` for no limit.
    collapse_repeats, max_path_length : see :class:`features.journeys.JourneyConfig`.
    """
    n_events = len(event_account)
    bits_acct = max(1, int(n_accounts).bit_length())
    coder, coords = _time_coordinates(time_ns, bits_acct)
    keys = account.astype(np.int64, copy=False) << coder.bits
    keys |= coords
    del coords
    order, sorted_keys = _sort_keys(keys, bits_acct + coder.bits)
    del keys
    tied = _break_ties(order, sorted_keys, tie_rank)

    def pack(acct: np.ndarray, coord: np.ndarray) -> np.ndarray:
        return (acct.astype(np.int64) << coder.bits) + coord

    # Converting windows: (previous event, T] intersected with [T - lookback, T].
    ev_hi = np.searchsorted(
        sorted_keys, pack(event_account, coder.upper(event_time_ns)), side="right"
    )
    ev_first = np.ones(n_events, dtype=bool)
    ev_first[1:] = event_account[1:] != event_account[:-1]
    prev_hi = np.zeros(n_events, dtype=np.int64)
    prev_hi[1:] = ev_hi[:-1]
    prev_hi[ev_first] = 0
    if lookback_ns is None:
        ev_lo = np.searchsorted(sorted_keys, pack(event_account, np.zeros(n_events, np.int64)))
    else:
        ev_lo = np.searchsorted(
            sorted_keys, pack(event_account, coder.lower(event_time_ns - lookback_ns))
        )
    ev_lo = np.minimum(np.maximum(ev_lo, prev_hi), ev_hi)

    # Non-converting tails: (last event, end] intersected with [end - lookback, end].
    accts = np.arange(n_touch_accounts, dtype=np.int64)
    end = np.full(n_touch_accounts, observation_end_ns, dtype=np.int64)
    tail_hi = np.searchsorted(sorted_keys, pack(accts, coder.upper(end)), side="right")
    if lookback_ns is None:
        tail_lo = np.searchsorted(sorted_keys, pack(accts, np.zeros_like(accts)))
    else:
        tail_lo = np.searchsorted(sorted_keys, pack(accts, coder.lower(end - lookback_ns)))
    last_ev = np.searchsorted(event_account, accts, side="right") - 1
    has_ev = last_ev >= 0
    has_ev[has_ev] = event_account[last_ev[has_ev]] == accts[has_ev]
    last_hi = np.where(has_ev, ev_hi[np.maximum(last_ev, 0)] if n_events else 0, 0)
    tail_lo = np.minimum(np.maximum(tail_lo, last_hi), tail_hi)

    lo = np.concatenate([ev_lo, tail_lo])
    hi = np.concatenate([ev_hi, tail_hi])
    j_account = np.concatenate([event_account.astype(np.int64), accts])
    j_event = np.concatenate([np.arange(n_events, dtype=np.int64), np.full(n_touch_accounts, -1)])
    nonempty = np.flatnonzero(hi > lo)
    nonempty = nonempty[np.argsort(lo[nonempty], kind="stable")]
    lo, hi = lo[nonempty], hi[nonempty]
    j_account, j_event = j_account[nonempty], j_event[nonempty]
    if len(lo) > 1 and (hi[:-1] > lo[1:]).any():
        raise JourneyInvariantError("journey windows overlap: a touch would be in two journeys")
    event_touches = (ev_hi - ev_lo).astype(np.int64)
    n_journeys = len(lo)

    positions, journey, offsets = _ranges_to_touches(lo, hi)
    del sorted_keys
    in_windows = len(positions)
    rows = order[positions]
    del order, positions
    small = np.int16 if channel_map.max(initial=0) < 2**15 else np.int32
    codes = channel_map.astype(small)[channel[rows]]

    collapsed = 0
    if collapse_repeats and in_windows:
        keep = np.ones(in_windows, dtype=bool)
        keep[1:] = codes[1:] != codes[:-1]
        keep[offsets[:-1]] = True
        collapsed = int(in_windows - keep.sum())
        if collapsed:
            journey, offsets, rows, codes = _compress(keep, journey, n_journeys, rows, codes)
    position = np.arange(len(rows), dtype=np.int64) - offsets[journey]

    dropped = 0
    if max_path_length is not None and len(rows):
        lengths = np.diff(offsets)
        keep = position >= (lengths - max_path_length)[journey]
        dropped = int(len(keep) - keep.sum())
        if dropped:
            journey, offsets, rows, codes = _compress(keep, journey, n_journeys, rows, codes)
            position = np.arange(len(rows), dtype=np.int64) - offsets[journey]

    n_codes = int(channel_map.max(initial=0)) + 1
    lengths = np.diff(offsets)
    journey_path = np.zeros(n_journeys, dtype=np.int64)
    path_rep = np.zeros(0, dtype=np.int64)
    if n_journeys:
        for attempt in range(_MAX_HASH_ATTEMPTS):
            h = _hash_paths(codes, position, offsets[:-1], n_codes, salt=attempt)
            _, path_rep, journey_path = np.unique(h, return_index=True, return_inverse=True)
            rep = path_rep[journey_path]
            if np.array_equal(lengths[rep], lengths) and np.array_equal(
                codes[offsets[rep][journey] + position], codes
            ):
                break
        else:  # pragma: no cover - 64-bit collisions on every salt
            raise JourneyInvariantError("path hash collisions persisted over all salts")

    if len(position) and position.max() < 2**31:
        position = position.astype(np.int32)
    return EngineResult(
        rows=rows,
        codes=codes,
        journey=journey,
        position=position,
        offsets=offsets,
        journey_account=j_account,
        journey_event=j_event,
        journey_path=journey_path.astype(np.int64, copy=False),
        path_rep=path_rep.astype(np.int64, copy=False),
        event_touches=event_touches,
        touches_in_windows=in_windows,
        touches_collapsed=collapsed,
        touches_dropped_by_max_length=dropped,
        tied_rows=tied,
        time_step_ns=coder.step,
    )
