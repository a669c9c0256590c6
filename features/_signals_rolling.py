"""Rolling-window sums over time-sorted touches, carried forward across dates.

The engine behind :mod:`features.signals`. For a sorted array of touch times
``t_i`` with integer group codes ``g_i`` (e.g. ``account * n_signals + signal``)
and ascending query times ``q_1 <= ... <= q_T``, it yields for every ``q_k``
the per-group count and decayed sum over the half-open window
``(q_k - W, q_k]``:

.. math::

    N_g(q) = \\#\\{i : g_i = g,\\ q - W < t_i \\le q\\}, \\qquad
    D_g(q) = \\sum_{i : g_i = g,\\ q - W < t_i \\le q} 0.5^{(q - t_i) / h}.

Nothing is recomputed from scratch per date. With ``p_k`` the number of touches
at or before ``q_k`` and ``l_k`` the number at or before ``q_k - W`` (two
``searchsorted`` calls on the sorted times), the touches entering the window
between ``q_{k-1}`` and ``q_k`` are ``[p_{k-1}, p_k)`` and those leaving are
``[l_{k-1}, l_k)``, so

.. math::

    N(q_k) = N(q_{k-1}) + \\text{bincount(entering)} - \\text{bincount(leaving)},

    D(q_k) = D(q_{k-1})\\, 0.5^{(q_k - q_{k-1}) / h}
             + \\sum_{\\text{entering}} 0.5^{(q_k - t_i)/h}
             - \\sum_{\\text{leaving}} 0.5^{(q_k - t_i)/h}.

Every touch is visited twice (once entering, once leaving); the cost per date
is ``O(n_groups)`` on top. Counts are exact integers. A decayed sum whose count
falls to zero is reset to exactly ``0.0`` (so rounding never leaves a
``1e-17`` residue) and is clipped at zero; otherwise it agrees with the direct
sum to floating-point rounding (relative error of order ``1e-15``). The first
query starts from its own window (``[l_1, p_1)``), so a single query is the
direct sum.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["rolling_window_sums"]


def rolling_window_sums(
    times: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    queries: np.ndarray,
    window: int | None,
    half_life: float | None,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(counts, decayed)`` per query time, carried forward.

    Parameters
    ----------
    times : ndarray of int64, shape (n,)
        Touch times in nanoseconds since the epoch, sorted ascending.
    codes : ndarray of intp, shape (n,)
        Group code of each touch, in ``[0, n_groups)``.
    n_groups : int
        Number of groups.
    queries : ndarray of int64, shape (T,)
        Query times in nanoseconds, sorted ascending.
    window : int or None
        Window length ``W`` in nanoseconds; ``None`` means unbounded (all touches
        at or before the query).
    half_life : float or None
        Half-life ``h`` in nanoseconds; ``None`` skips the decayed sums.

    Yields
    ------
    counts : ndarray of int64, shape (n_groups,)
        ``N_g(q_k)``. A view of internal state: copy it to keep it.
    decayed : ndarray of float64, shape (n_groups,) or None
        ``D_g(q_k)``, same caveat; ``None`` when ``half_life`` is ``None``.
    """
    queries = np.asarray(queries, dtype=np.int64)
    if queries.size and np.any(np.diff(queries) < 0):
        raise ValueError("queries must be sorted ascending")
    hi = np.searchsorted(times, queries, side="right")
    if window is None:
        lo = np.zeros_like(hi)
    else:
        lo = np.searchsorted(times, queries - np.int64(window), side="right")

    counts = np.zeros(n_groups, dtype=np.int64)
    decayed = np.zeros(n_groups, dtype=np.float64) if half_life is not None else None
    prev_q: int | None = None
    prev_hi = prev_lo = int(lo[0]) if queries.size else 0

    for k, q in enumerate(queries):
        q = int(q)
        h_k, l_k = int(hi[k]), int(lo[k])
        if decayed is not None and prev_q is not None and q != prev_q:
            decayed *= np.exp2(-(q - prev_q) / half_life)
        for start, stop, sign in ((prev_hi, h_k, 1), (prev_lo, l_k, -1)):
            if stop <= start:
                continue
            g = codes[start:stop]
            n = np.bincount(g, minlength=n_groups)
            if sign > 0:
                counts += n
            else:
                counts -= n
            if decayed is not None:
                w = np.exp2(-(q - times[start:stop]) / half_life)
                s = np.bincount(g, weights=w, minlength=n_groups)
                if sign > 0:
                    decayed += s
                else:
                    decayed -= s
        if decayed is not None and prev_lo != l_k:
            decayed[counts == 0] = 0.0
            np.maximum(decayed, 0.0, out=decayed)
        prev_q, prev_hi, prev_lo = q, h_k, l_k
        yield counts, decayed
