r"""The Shapley family of attribution models, as pure functions on :class:`EncodedPaths`.

Channels are the players of a cooperative game; a journey's *channel set* is
the set of distinct channels it touched (order and repeats dropped). Write
:math:`K` for the number of channels, :math:`\mathcal T` for the observed
channel sets, and for a set :math:`T` with :math:`t = |T|`

* :math:`c_T, n_T, y_T`: conversions, nulls and conversion value summed over
  the paths whose channel set is exactly :math:`T`;
* :math:`r(T) = c_T / (c_T + n_T)`: its conversion rate, and
  :math:`q(T) = y_T / (c_T + n_T)`: its value per journey (both 0 when
  :math:`T` was never observed).

The Shapley value of player :math:`i` in a game :math:`v` on players :math:`N`
(Shapley, 1953) is

.. math::

    \phi_i(v) = \sum_{S \subseteq N \setminus \{i\}}
        \frac{|S|!\,(|N| - |S| - 1)!}{|N|!}\,\bigl(v(S \cup \{i\}) - v(S)\bigr)
      = \mathbb E_\pi\bigl[v(P^\pi_i \cup \{i\}) - v(P^\pi_i)\bigr],

the marginal contribution of :math:`i` averaged over the :math:`|N|!` orders
:math:`\pi` in which the players may arrive (:math:`P^\pi_i` = the players
before :math:`i`). It is linear in :math:`v` and efficient:
:math:`\sum_i \phi_i = v(N) - v(\varnothing)`.

Simplified Shapley (Zhao et al., 2018)
--------------------------------------
:func:`simplified_shapley` uses :math:`v(S) = \sum_{T \subseteq S} c_T`: the
conversions of the journeys that only touched channels in :math:`S` (and the
same with :math:`y_T` for value). This :math:`v` is a non-negative sum of
*unanimity games* :math:`u_T(S) = [T \subseteq S]`. In :math:`u_T` a player
outside :math:`T` never changes the value (a null player, credit 0) and the
players of :math:`T` are interchangeable (symmetry), so efficiency
(:math:`u_T(N) = 1`) leaves :math:`\phi_i(u_T) = [i \in T] / |T|`. By
linearity

.. math:: \phi_i = \sum_{T \ni i} \frac{c_T}{|T|},

i.e. every converting journey gives :math:`1/|T|` of its conversions to each
channel it touched. Credits are non-negative and sum exactly to the total
conversions (value). Cost: one pass over the touches. This is the game
computed (by enumerating coalitions) by the ``mta`` package's ``shapley``.

Ordered Shapley (Zhao et al., 2018, section 4)
----------------------------------------------
:func:`ordered_shapley` splits the simplified credit of a channel in a
journey over the touch positions where that channel appears: in a path of
channel set :math:`T`, channel :math:`i` touched :math:`m_i` times gets
:math:`c / (|T|\, m_i)` at each position :math:`k` (1-based, counting every
touch of the path, repeats included) where it appears. So

.. math::

    \phi_i^{(k)} = \sum_{\text{paths } p:\ p_k = i} \frac{c_p}{|T_p|\, m_i(p)},
    \qquad \sum_k \phi_i^{(k)} = \phi_i .

Rate Shapley: the characteristic function of DP6 (:func:`shapley_rate`)
-------------------------------------------------------------------------
:math:`v(S) = r(S)`, the conversion rate of the journeys whose channel set
**equals** :math:`S` (0 for a coalition never observed), as in DP6's
*Marketing Attribution Models* (``attribution_shapley`` with
``values_col="conv_rate"``); the value game uses :math:`q(S)`. Two games can
be built on it, chosen with ``game``:

``game="journey"`` (default; DP6's construction)
    Each observed converting channel set :math:`J` plays its own game on the
    players :math:`J`, with :math:`v` restricted to subsets of :math:`J`. Its
    Shapley values :math:`\phi^J_i` sum to :math:`r(J)` (efficiency), and
    "scaled to total conversions" means: the :math:`c_J` conversions of
    :math:`J` are split in proportion to :math:`\phi^J`,

    .. math::

        \text{credit}_i = \sum_{J \ni i,\ c_J > 0} c_J\,\frac{\phi^J_i}{r(J)}
                        = \sum_{J \ni i,\ c_J > 0} (c_J + n_J)\,\phi^J_i,

    which is always defined (:math:`r(J) > 0` when :math:`c_J > 0`) and sums
    exactly to the total conversions (value: :math:`q`, :math:`y_J`, over
    :math:`J` with :math:`y_J > 0`). A channel that never appears in a
    converting journey gets exactly 0.

``game="global"`` (the textbook :math:`K`-player game)
    One game on all :math:`K` channels. Then :math:`\sum_i \phi_i = v(N)`,
    the conversion rate of the journeys that touched *every* channel: usually
    0 once there are more than a handful of channels. The only scaling that
    keeps efficiency is :math:`\text{credit}_i = \phi_i \cdot C / v(N)`
    (:math:`C` = total conversions); when :math:`v(N) = 0` no scaling can make
    credits sum to :math:`C` and a :class:`DataValidationError` is raised.
    Note that with "equals" a channel that never converts is *not* a null
    player: adding it to a converting coalition drops the rate to that of an
    unobserved set, so its Shapley value is negative.

With either game the rate is not monotone (adding a channel can lower the
rate), so **credits can be negative**. They are reported as computed, never
clipped; a log line at INFO level counts the negative channels.

Exact computation, ``game="global"``
    :math:`v = \sum_{T \in \mathcal T} r(T)\,\delta_T` with
    :math:`\delta_T(S) = [S = T]`. In :math:`\delta_T` player :math:`i \in T`
    adds 1 exactly when it joins :math:`T \setminus i`, player :math:`i
    \notin T` subtracts 1 exactly when it joins :math:`T`, so with
    :math:`B` the Beta function

    .. math::

        \phi_i = \sum_{T \ni i} r(T)\,\bigl(a_t + b_t\bigr)
                 - \sum_{T} r(T)\,b_t,\quad
        a_t = \tfrac{(t-1)!(K-t)!}{K!},\ b_t = \tfrac{t!(K-t-1)!}{K!}
            = B(t+1, K-t),\ a_t + b_t = B(t, K-t)

    (:math:`b_K = 0`, :math:`a_K = 1/K`): one pass over the observed sets,
    exact for any :math:`K`; no :math:`2^K` table and no sampling.

Exact computation, ``game="journey"`` (:math:`K \le` ``max_exact_channels``)
    With :math:`s!(n-1-s)!/n! = \int_0^1 x^s (1-x)^{n-1-s}\,dx` (Owen's
    multilinear extension, 1972) and :math:`n = |J|`,

    .. math::

        \phi^J_i = \int_0^1 \frac{(1-x)^n Z_x(J) - (1-x)^{n-1}
                   Z_x(J \setminus i)}{x}\,dx,\qquad
        Z_x(A) = \sum_{T \subseteq A} r(T) \Bigl(\frac{x}{1-x}\Bigr)^{|T|}.

    The integrand is a polynomial of degree :math:`n - 1` in :math:`x`, so
    Gauss-Legendre quadrature with :math:`m = \lceil n_{\max}/2 \rceil` nodes
    is exact. For each node, :math:`Z_x` on all :math:`2^K` bitmasks is one
    zeta (subset-sum) transform (Yates' algorithm; Björklund et al., 2007):
    :math:`K` vectorised passes ``Z[..., 1, ...] += Z[..., 0, ...]`` over a
    ``(2^{K-1-k}, 2, 2^k \cdot 2m)`` view. Work :math:`O(K\,2^K m)`, memory
    ``2^K * 2m * 8`` bytes (K = 20, m = 10: 168 MB). Rounding: both terms
    of the integrand are convex combinations of rates (their weights
    :math:`x^t (1-x)^{n-t}` sum to 1), so the error is about machine epsilon
    times the largest rate, whatever :math:`K`.

Monte Carlo, ``game="journey"`` (:math:`K >` ``max_exact_channels``)
    Permutations of all :math:`K` channels are drawn with
    ``np.random.default_rng(random_state)``; restricted to :math:`J` each is a
    uniform order of :math:`J` (Castro et al., 2009). For every converting
    :math:`J`, member :math:`i` and permutation, the set of members ranked
    before :math:`i` is found by a vectorised comparison over all ordered
    member pairs of :math:`J`, coded as a 64-bit key and looked up among the
    observed sets (a hash lookup). Each permutation's credit vector sums exactly to the totals
    (the marginals telescope to :math:`r(J)`); the estimate is their mean and
    ``std_err`` their standard deviation over :math:`\sqrt{\text{n}}`.

Set keys are exact bitmasks for up to 64 channels; above that they are sums
of random 64-bit channel codes (a second independent code checks that no two
observed sets collide).

References
----------
.. [1] Shapley, L. S. (1953). A value for n-person games. In *Contributions to
   the Theory of Games II*, Annals of Mathematics Studies 28, 307-317.
.. [2] Zhao, K., Mahboobi, S. H., & Bagheri, S. R. (2018). Shapley value
   methods for attribution modeling in online advertising. arXiv:1804.05327.
.. [3] Owen, G. (1972). Multilinear extensions of games. *Management Science*
   18(5), P64-P79.
.. [4] Björklund, A., Husfeldt, T., Kaski, P., & Koivisto, M. (2007). Fourier
   meets Möbius: fast subset convolution. *STOC '07*, 67-74.
.. [5] Castro, J., Gómez, D., & Tejada, J. (2009). Polynomial calculation of
   the Shapley value based on sampling. *Computers & Operations Research*
   36(5), 1726-1730.
.. [6] DP6, *Marketing Attribution Models* (``marketing_attribution_models``,
   ``MAM.attribution_shapley``), open-source Python package.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import beta as _beta
from scipy.special import roots_legendre

from attribution._encoding import EncodedPaths
from features.errors import DataValidationError

__all__ = ["ShapleyEstimate", "simplified_shapley", "shapley_rate", "ordered_shapley"]

logger = logging.getLogger(__name__)

_GAMES = ("journey", "global")
# Elements of the (permutations x member pairs) arrays of one Monte Carlo batch.
_MC_BATCH_ELEMENTS = 4_000_000
_MAX_EXACT_LIMIT = 26  # 2^26 masks x 2 games x 13 nodes x 8 bytes = 14 GB: the ceiling
_HASH_SEED = 0x5EED_CAFE  # fixed: the set codes above 64 channels must not depend on the caller


class ShapleyEstimate(NamedTuple):
    """Per-channel credits of :func:`shapley_rate`, in ``enc.channels`` order.

    Unpacks as ``conversions, value, std_err = shapley_rate(enc)``.

    Attributes
    ----------
    conversions : ndarray (n_channels,)
        Credit in conversions; sums to the total conversions.
    value : ndarray (n_channels,)
        Credit in conversion value; sums to the total value.
    std_err : ndarray (2, n_channels) or None
        Monte Carlo standard errors (row 0 conversions, row 1 value); ``None``
        when the credits are exact.
    """

    conversions: np.ndarray
    value: np.ndarray
    std_err: np.ndarray | None


# --------------------------------------------------------------------------- inputs


def _weights(
    enc: EncodedPaths,
    conversions: np.ndarray | None,
    nulls: np.ndarray | None,
    values: np.ndarray | None,
    model: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The per-path weights to use: ``enc``'s, or validated overrides (bootstrap)."""
    out = []
    for name, given, default in (
        ("conversions", conversions, enc.conversions),
        ("nulls", nulls, enc.nulls),
        ("values", values, enc.values),
    ):
        arr = np.asarray(default if given is None else given, dtype=np.float64)
        if arr.shape != (enc.n_paths,):
            raise DataValidationError(
                f"{model}: {name} has shape {arr.shape}, expected ({enc.n_paths},) "
                "(one weight per encoded path)"
            )
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{model}: {name}[{row}] = {float(arr[row])}; weights must be finite and >= 0"
            )
        out.append(arr)
    if (enc.lengths <= 0).any():
        row = int(np.flatnonzero(enc.lengths <= 0)[0])
        raise DataValidationError(f"{model}: path {row} has no touch; every path needs a channel")
    return out[0], out[1], out[2]


# ------------------------------------------------------------------ channel sets


@dataclass(frozen=True)
class _ChannelSets:
    """Distinct channel sets of the paths, with their summed weights.

    ``keys`` are sorted; exact bitmasks when ``exact`` (n_channels <= 64),
    otherwise sums of the random 64-bit ``hashes`` of the members.
    """

    n_channels: int
    exact: bool
    hashes: np.ndarray  # (K,) uint64, key of a one-channel set
    keys: np.ndarray  # (M,) uint64, sorted
    offsets: np.ndarray  # (M + 1,) int64, CSR over members
    members: np.ndarray  # (nnz,) int64 channel codes, ascending within a set
    conversions: np.ndarray  # (M,)
    nulls: np.ndarray
    values: np.ndarray
    path_set: np.ndarray  # (n_paths,) set index of each path

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def member_set(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.keys), dtype=np.int64), self.sizes)


def _channel_hashes(n_channels: int, seed: int = _HASH_SEED) -> np.ndarray:
    if n_channels <= 64:
        return np.left_shift(np.uint64(1), np.arange(n_channels, dtype=np.uint64))
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(np.uint64).max, size=n_channels, dtype=np.uint64, endpoint=True)


def _channel_sets(
    enc: EncodedPaths, conversions: np.ndarray, nulls: np.ndarray, values: np.ndarray
) -> _ChannelSets:
    K, n = enc.n_channels, enc.n_paths
    codes = enc.codes.astype(np.int64)
    starts = enc.offsets[:-1]
    hashes = _channel_hashes(K)
    if K <= 64:
        # Bitmask of each path: OR of its touches; no sort of the touches needed.
        path_key = np.bitwise_or.reduceat(hashes[codes], starts)
        keys, path_set = np.unique(path_key, return_inverse=True)
        bits = (keys[:, None] >> np.arange(K, dtype=np.uint64)[None, :]) & np.uint64(1)
        set_idx, members = np.nonzero(bits)
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(set_idx, minlength=len(keys)), out=offsets[1:])
        exact = True
    else:
        pid = np.repeat(np.arange(n, dtype=np.int64), enc.lengths)
        pair = np.unique(pid * K + codes)  # distinct (path, channel), path-major
        pair_pid = pair // K
        pair_code = pair - pair_pid * K
        pair_start = np.searchsorted(pair_pid, np.arange(n))
        path_key = np.add.reduceat(hashes[pair_code], pair_start)
        keys, first, path_set = np.unique(path_key, return_index=True, return_inverse=True)
        check = np.add.reduceat(_channel_hashes(K, seed=_HASH_SEED + 1)[pair_code], pair_start)
        if not np.array_equal(check, check[first][path_set]):  # pragma: no cover - p ~ 2^-64
            raise RuntimeError("shapley: 64-bit channel-set codes collided; please report this")
        size = np.diff(np.append(pair_start, len(pair)))[first]
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(size, out=offsets[1:])
        src = np.repeat(pair_start[first] - offsets[:-1], size) + np.arange(offsets[-1])
        members = pair_code[src]
        exact = False
    M = len(keys)
    path_set = path_set.ravel()
    return _ChannelSets(
        n_channels=K,
        exact=exact,
        hashes=hashes,
        keys=keys,
        offsets=offsets,
        members=members.astype(np.int64),
        conversions=np.bincount(path_set, weights=conversions, minlength=M),
        nulls=np.bincount(path_set, weights=nulls, minlength=M),
        values=np.bincount(path_set, weights=values, minlength=M),
        path_set=path_set,
    )


def _rates(sets: _ChannelSets, model: str) -> np.ndarray:
    """(M, 2): conversion rate r(T) and value per journey q(T) of each observed set."""
    journeys = sets.conversions + sets.nulls
    orphan = (journeys <= 0) & (sets.values > 0)
    if orphan.any():
        raise DataValidationError(
            f"{model}: a channel set carries conversion value {float(sets.values[orphan][0])} "
            "but no journeys (conversions + nulls = 0), so its value per journey is "
            "undefined; give such paths their conversion count"
        )
    safe = np.where(journeys > 0, journeys, 1.0)
    rates = np.stack([sets.conversions / safe, sets.values / safe], axis=1)
    rates[journeys <= 0] = 0.0
    return rates


# --------------------------------------------------------------- simplified


def simplified_shapley(
    enc: EncodedPaths,
    *,
    conversions: np.ndarray | None = None,
    nulls: np.ndarray | None = None,
    values: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Zhao et al.'s simplified Shapley value: each journey splits its credit equally.

    The Shapley value of :math:`v(S) = \sum_{T \subseteq S} c_T` (conversions of
    the journeys that touched only channels in :math:`S`), which is a sum of
    unanimity games and so equals
    :math:`\phi_i = \sum_{T \ni i} c_T / |T|` (see the module docstring).

    Parameters
    ----------
    enc : EncodedPaths
        The coded path table.
    conversions, nulls, values : ndarray (n_paths,), optional
        Per-path weights replacing ``enc``'s (the bootstrap passes resampled
        weights). ``nulls`` is accepted for a uniform signature; this game
        does not use it.

    Returns
    -------
    conversions, value : ndarray (n_channels,)
        Credits in ``enc.channels`` order; non-negative, summing exactly to the
        total conversions and total value.

    References
    ----------
    Zhao, K., Mahboobi, S. H., & Bagheri, S. R. (2018). Shapley value methods
    for attribution modeling in online advertising. arXiv:1804.05327.
    """
    conv, null, val = _weights(enc, conversions, nulls, values, "simplified_shapley")
    sets = _channel_sets(enc, conv, null, val)
    sizes = sets.sizes
    per_set = np.stack([sets.conversions, sets.values], axis=1) / sizes[:, None]
    per_member = np.repeat(per_set, sizes, axis=0)
    K = enc.n_channels
    return (
        np.bincount(sets.members, weights=per_member[:, 0], minlength=K),
        np.bincount(sets.members, weights=per_member[:, 1], minlength=K),
    )


# ------------------------------------------------------------------ ordered


def ordered_shapley(
    enc: EncodedPaths,
    *,
    conversions: np.ndarray | None = None,
    nulls: np.ndarray | None = None,
    values: np.ndarray | None = None,
) -> pd.DataFrame:
    r"""Zhao et al.'s ordered Shapley value: simplified credit per channel and touch position.

    In a path with channel set :math:`T`, a channel touched :math:`m` times
    gets :math:`c / (|T|\,m)` at each of its positions (1-based over all the
    touches of the path), so a channel's credits over positions add up to its
    :func:`simplified_shapley` credit.

    Parameters
    ----------
    enc : EncodedPaths
    conversions, nulls, values : ndarray (n_paths,), optional
        Weight overrides, as in :func:`simplified_shapley`.

    Returns
    -------
    DataFrame
        Columns ``channel``, ``position`` (int, 1-based), ``credit_conversions``,
        ``credit_value``; one row per (channel, position) seen in a path with
        conversions or value, sorted by channel code then position.

    References
    ----------
    Zhao, K., Mahboobi, S. H., & Bagheri, S. R. (2018). Shapley value methods
    for attribution modeling in online advertising, section 4 (ordered
    Shapley value). arXiv:1804.05327.
    """
    conv, _, val = _weights(enc, conversions, nulls, values, "ordered_shapley")
    K, n = enc.n_channels, enc.n_paths
    pid = np.repeat(np.arange(n, dtype=np.int64), enc.lengths)
    code = enc.codes.astype(np.int64)
    position = np.arange(len(code), dtype=np.int64) - enc.offsets[pid] + 1
    keep = (conv[pid] > 0) | (val[pid] > 0)
    pid, code, position = pid[keep], code[keep], position[keep]
    pair, pair_inv, pair_count = np.unique(
        pid * K + code, return_inverse=True, return_counts=True
    )
    repeats = pair_count[pair_inv]  # m: touches of this channel in this path
    distinct = np.bincount(pair // K, minlength=n)[pid]  # |T| of the path
    share = 1.0 / (distinct * repeats)
    span = int(position.max()) + 1 if len(position) else 1
    group, group_inv = np.unique(code * span + position, return_inverse=True)
    group_code = group // span
    return pd.DataFrame(
        {
            "channel": pd.Series(np.asarray(enc.channels, dtype=object)[group_code], dtype=object),
            "position": (group - group_code * span).astype(np.int64),
            "credit_conversions": np.bincount(
                group_inv, weights=conv[pid] * share, minlength=len(group)
            ),
            "credit_value": np.bincount(group_inv, weights=val[pid] * share, minlength=len(group)),
        }
    )


# ---------------------------------------------------------------- rate games


def _global_phi(sets: _ChannelSets, rates: np.ndarray) -> np.ndarray:
    """(K, 2) Shapley values of the K-player game v(S) = rate of set S (closed form)."""
    K = sets.n_channels
    t = sets.sizes.astype(np.float64)
    full = t >= K
    rest = np.where(full, 1.0, K - t)  # K - t, kept > 0 where the Beta is masked out
    a = np.where(full, 1.0 / K, _beta(t, rest))  # a_t + b_t: i in T
    b = np.where(full, 0.0, _beta(t + 1.0, rest))  # b_t: i not in T
    gain = np.repeat(rates * a[:, None], sets.sizes, axis=0)
    phi = np.stack(
        [np.bincount(sets.members, weights=gain[:, g], minlength=K) for g in range(2)], axis=1
    )
    return phi - (rates * b[:, None]).sum(axis=0)[None, :]


def _journey_credited(sets: _ChannelSets) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the sets that carry credit, and their (n, 2) journey weights c_J + n_J."""
    journeys = sets.conversions + sets.nulls
    w = np.stack(
        [np.where(sets.conversions > 0, journeys, 0.0), np.where(sets.values > 0, journeys, 0.0)],
        axis=1,
    )
    idx = np.flatnonzero((w > 0).any(axis=1))
    return idx, w[idx]


def _member_slots(sets: _ChannelSets, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR of the members of the sets ``idx``: (offsets, owner position in idx, channel code)."""
    size = sets.sizes[idx]
    offsets = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(size, out=offsets[1:])
    owner = np.repeat(np.arange(len(idx), dtype=np.int64), size)
    src = np.repeat(sets.offsets[idx] - offsets[:-1], size) + np.arange(offsets[-1])
    return offsets, owner, sets.members[src]


def _journey_phi_exact(sets: _ChannelSets, rates: np.ndarray) -> np.ndarray:
    """(K, 2) journey-game credits by quadrature over zeta transforms on 2^K bitmasks."""
    K = sets.n_channels
    idx, w = _journey_credited(sets)
    if len(idx) == 0:
        return np.zeros((K, 2))
    n_max = int(sets.sizes[idx].max())
    m = max(1, (n_max + 1) // 2)  # Gauss-Legendre, exact to degree 2m - 1 >= n_max - 1
    x, wq = roots_legendre(m)
    x, wq = 0.5 * (x + 1.0), 0.5 * wq
    rho = x / (1.0 - x)

    observed = np.flatnonzero((rates > 0).any(axis=1))
    Z = np.zeros((1 << K, 2, m))
    power = rho[None, :] ** sets.sizes[observed, None]  # (n_obs, m)
    Z[sets.keys[observed].astype(np.intp)] = rates[observed, :, None] * power[:, None, :]
    flat = Z.reshape(1 << K, 2 * m)
    for k in range(K):  # zeta transform: Z(A) = sum over subsets of A
        view = flat.reshape(1 << (K - 1 - k), 2, (1 << k) * 2 * m)
        view[:, 1, :] += view[:, 0, :]

    _, owner, code = _member_slots(sets, idx)
    key_j = sets.keys[idx].astype(np.intp)
    n = sets.sizes[idx].astype(np.float64)
    c_full = wq / x * (1.0 - x)[None, :] ** n[:, None]  # (n_sets, m)
    term_full = (Z[key_j] * c_full[:, None, :]).sum(axis=2)  # (n_sets, 2)
    key_drop = key_j[owner] ^ (np.intp(1) << code.astype(np.intp))
    c_drop = wq / x * (1.0 - x)[None, :] ** (n[owner] - 1.0)[:, None]
    phi = term_full[owner] - (Z[key_drop] * c_drop[:, None, :]).sum(axis=2)  # (slots, 2)
    weighted = phi * w[owner]
    return np.stack(
        [np.bincount(code, weights=weighted[:, g], minlength=K) for g in range(2)], axis=1
    )


def _lookup(index: pd.Index, rates: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Rates (..., 2) of the sets coded ``query``; 0 where the set was never observed.

    ``index`` is a :class:`pandas.Index` over the set keys: a hash lookup, several
    times faster than a binary search for unsorted queries.
    """
    pos = index.get_indexer(query.ravel()).reshape(query.shape)
    return np.where((pos >= 0)[..., None], rates[pos], 0.0)


def _journey_phi_mc(
    sets: _ChannelSets, rates: np.ndarray, n_permutations: int, random_state
) -> tuple[np.ndarray, np.ndarray]:
    """(K, 2) Monte Carlo journey-game credits and their standard errors."""
    K = sets.n_channels
    rng = np.random.default_rng(random_state)
    idx, w = _journey_credited(sets)
    if len(idx) == 0:
        return np.zeros((K, 2)), np.zeros((K, 2))
    offsets, owner, code = _member_slots(sets, idx)
    size = np.diff(offsets)
    # Every ordered pair (slot i, slot c) of members of the same set, i-major.
    n_pairs = size[owner]
    pair_start = np.zeros(len(code), dtype=np.int64)
    np.cumsum(n_pairs[:-1], out=pair_start[1:])
    i_slot = np.repeat(np.arange(len(code), dtype=np.int64), n_pairs)
    c_slot = offsets[owner][i_slot] + (np.arange(len(i_slot), dtype=np.int64) - pair_start[i_slot])
    c_hash = sets.hashes[code[c_slot]]
    own_hash = sets.hashes[code]
    w_slot = w[owner]  # (slots, 2)
    index = pd.Index(sets.keys)

    batch = max(1, min(n_permutations, _MC_BATCH_ELEMENTS // max(1, len(i_slot))))
    draws = np.empty((n_permutations, 2, K))
    arange_k = np.arange(K)
    done = 0
    while done < n_permutations:
        B = min(batch, n_permutations - done)
        order = rng.permuted(np.broadcast_to(arange_k, (B, K)), axis=1)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.broadcast_to(arange_k, (B, K)), axis=1)
        r = rank[:, code]  # (B, slots)
        before = r[:, c_slot] < r[:, i_slot]  # (B, pairs): c arrives before i
        prefix = np.add.reduceat(np.where(before, c_hash, np.uint64(0)), pair_start, axis=1)
        gain = _lookup(index, rates, prefix + own_hash) - _lookup(index, rates, prefix)
        gain *= w_slot[None, :, :]
        flat_index = (np.arange(B)[:, None] * K + code[None, :]).ravel()
        for g in range(2):
            draws[done : done + B, g] = np.bincount(
                flat_index, weights=gain[:, :, g].ravel(), minlength=B * K
            ).reshape(B, K)
        done += B
    mean = draws.mean(axis=0).T
    se = (draws.std(axis=0, ddof=1) / np.sqrt(n_permutations)).T
    return mean, se


def shapley_rate(
    enc: EncodedPaths,
    *,
    game: str = "journey",
    max_exact_channels: int = 20,
    n_permutations: int = 2000,
    random_state: int | np.random.Generator | None = None,
    conversions: np.ndarray | None = None,
    nulls: np.ndarray | None = None,
    values: np.ndarray | None = None,
) -> ShapleyEstimate:
    r"""Shapley value of the conversion-rate game, scaled to total conversions and value.

    :math:`v(S)` is the conversion rate of the journeys whose channel set
    equals :math:`S` (0 when never observed); the value game uses the value
    per journey. See the module docstring for both games, the scaling and the
    algorithms.

    Parameters
    ----------
    enc : EncodedPaths
    game : {"journey", "global"}, default "journey"
        ``"journey"``: each converting channel set :math:`J` plays a game on
        its own channels (DP6's construction) and shares its conversions in
        proportion to its Shapley values; always well defined.
        ``"global"``: one game on all channels, credits
        :math:`\phi_i \cdot C / v(N)`; raises when :math:`v(N) = 0`.
    max_exact_channels : int, default 20
        ``game="journey"`` is exact (zeta transforms over :math:`2^K`
        bitmasks, memory about ``2^K * n_channels * 8`` bytes) up to this many
        channels and a Monte Carlo estimate above. ``game="global"`` is exact
        for any number of channels and ignores it.
    n_permutations : int, default 2000
        Permutations drawn by the Monte Carlo estimate (>= 2).
    random_state : int, Generator or None
        Seed of the Monte Carlo permutations (``np.random.default_rng``).
    conversions, nulls, values : ndarray (n_paths,), optional
        Per-path weights replacing ``enc``'s (the bootstrap's resamples).

    Returns
    -------
    ShapleyEstimate
        ``(conversions, value, std_err)``: credits of shape (n_channels,) in
        ``enc.channels`` order summing to the totals (may be negative), and the
        Monte Carlo standard errors (2, n_channels), or ``None`` when exact.

    Raises
    ------
    DataValidationError
        Bad weight overrides; value on a set with no journeys; with
        ``game="global"``, no journey touched every channel (:math:`v(N) = 0`)
        while there are conversions (value) to scale.
    ValueError
        Unknown ``game``, ``n_permutations < 2`` or ``max_exact_channels`` outside
        [1, 26].

    References
    ----------
    Shapley (1953); Owen (1972); Castro, Gómez & Tejada (2009); DP6 Marketing
    Attribution Models. Full citations in the module docstring.
    """
    model = f"shapley_rate(game={game!r})"
    if game not in _GAMES:
        raise ValueError(f"shapley_rate: game={game!r} is not one of {_GAMES}")
    if int(n_permutations) != n_permutations or n_permutations < 2:
        raise ValueError(f"shapley_rate: n_permutations={n_permutations!r}; need an integer >= 2")
    if (
        int(max_exact_channels) != max_exact_channels
        or not 1 <= max_exact_channels <= _MAX_EXACT_LIMIT
    ):
        raise ValueError(
            f"shapley_rate: max_exact_channels={max_exact_channels!r}; need an integer in "
            f"[1, {_MAX_EXACT_LIMIT}] (the exact method holds 2^K floats per quadrature node)"
        )
    conv, null, val = _weights(enc, conversions, nulls, values, model)
    sets = _channel_sets(enc, conv, null, val)
    rates = _rates(sets, model)
    K = enc.n_channels
    std_err = None

    if game == "global":
        phi = _global_phi(sets, rates)
        full = np.flatnonzero(sets.sizes == K)
        v_full = rates[full[0]] if len(full) else np.zeros(2)
        totals = np.array([conv.sum(), val.sum()])
        credit = np.zeros((K, 2))
        for g, what in enumerate(("conversions", "value")):
            if totals[g] <= 0:
                continue
            if v_full[g] <= 0:
                raise DataValidationError(
                    f"{model}: no journey touched all {K} channels, so v(N) = 0 and the "
                    f"Shapley values sum to 0; they cannot be scaled to the total {what}. "
                    "Use game='journey' (per-journey games, always defined) or "
                    "simplified_shapley"
                )
            credit[:, g] = phi[:, g] * (totals[g] / v_full[g])
    elif K <= max_exact_channels:
        credit = _journey_phi_exact(sets, rates)
    else:
        credit, se = _journey_phi_mc(sets, rates, int(n_permutations), random_state)
        std_err = np.ascontiguousarray(se.T)

    negative = int((credit[:, 0] < 0).sum())
    if negative:
        logger.info(
            "%s: %d of %d channels have negative conversion credit (rate games are not "
            "monotone); reported as computed",
            model,
            negative,
            K,
        )
    return ShapleyEstimate(
        np.ascontiguousarray(credit[:, 0]), np.ascontiguousarray(credit[:, 1]), std_err
    )
