r"""Markov-chain attribution with exact removal effects.

The chain
---------
A path ``c_1 > ... > c_L`` with :math:`n^+` converting and :math:`n^-`
non-converting journeys is read as the walk

.. math:: \text{start} \to s_1 \to \dots \to s_L \to \text{conversion}
          \ (n^+ \text{ times}) \text{ or } \text{null} \ (n^- \text{ times})

where, for order :math:`k`, the state after touch :math:`t` is the tuple of
the last :math:`\min(t, k)` channels, :math:`s_t = (c_{t-k+1}, \dots,
c_t)` (shorter tuples only at the start of a path). Every transition of the
path is counted with weight :math:`n^+ + n^-`, the final one into
conversion with :math:`n^+` and into null with :math:`n^-`. Normalising the
counts out of each state gives the maximum-likelihood absorbing chain with
transient-to-transient block :math:`Q` and absorption-into-conversion vector
:math:`r`. States are coded as integers: the tuple :math:`(c_1..c_m)` is
:math:`\sum_j (c_j + 1)(K + 1)^{m-j}`, factorised to ``0..S-1`` (``0`` is
start).

Removal effects, exactly
------------------------
The probability to convert from each transient state solves
:math:`(I - Q)\,x = r`; :math:`P = x_{\text{start}}`. Removing channel
:math:`c` sends every state whose tuple contains :math:`c` to null, i.e.
:math:`x_s = 0` there; the other states solve the principal sub-system
:math:`(I - Q)_{\bar R \bar R}\, x_{\bar R} = r_{\bar R}`, giving
:math:`P_{-c}`. The removal effect is :math:`RE_c = 1 - P_{-c}/P` and the
credit

.. math:: \text{credit}_c = \frac{RE_c}{\sum_j RE_j}\ \sum_i n^+_i .

This is K + 1 linear systems (no simulation). ``solver="dense"`` (default
up to 64 transient states, so order 1) solves them by batched LU
(``numpy.linalg.solve``); ``"sparse"`` by K + 1 sparse LU solves
(``scipy.sparse.linalg.spsolve``), exact but slow on order >= 3 chains whose
de Bruijn-like graphs fill in; ``"iterative"`` (default above 64 states)
runs one fixed-point sweep ``X <- M (Q X + R)`` for all K + 1 systems at
once, monotone from below, stopped by a certified bound on the remaining
error (relative 1e-13, far below any sampling error). Both right-hand
sides (conversion and value, below) share each solve.

Value
-----
Value uses a value-weighted absorption vector: :math:`r^v_s = V_s /
\text{out}_s` where :math:`V_s` is the conversion value of the paths whose
last state is :math:`s` (the chain's expected value collected on absorption
from :math:`s`, as ChannelAttribution draws a conversion value from the
values observed at the last state). :math:`y = (I-Q)^{-1} r^v` is the
expected value per journey; value removal effects :math:`1 - y_{-c}/y`
normalised to the total value give ``credit_value``. Where value per
conversion is the same everywhere this equals the conversion credit times
that value.

Repeated channels
-----------------
By default consecutive repeats are kept (``a > a > b`` has a self-loop at
``a`` for order 1, and state ``(a, a)`` for order 2), like
ChannelAttribution's ``markov_model``. For order 1 self-loops never change
absorption probabilities or removal effects (dividing row :math:`s` by
:math:`1 - Q_{ss}` removes them), so ``collapse_repeats`` only changes
``transition_matrix_``; for order >= 2 it changes the states.
``collapse_repeats=True`` merges runs of one channel into one touch first.

Choosing the order (``order="auto"``)
-------------------------------------
Journeys are split by seeded binomial thinning of every (path, outcome)
count (counts rounded to integers): a fraction ``holdout`` goes to a
held-out set. For each order :math:`k \le` ``max_order`` the held-out
paths are scored by their log-likelihood, per held-out journey, under the
order-:math:`k` chain estimated on the training part, including the final
conversion/null step. Unseen transitions get probability through an
interpolated Dirichlet back-off (as in Witten-Bell / hierarchical
Dirichlet n-gram smoothing): with counts :math:`n` and strength
:math:`\alpha` = ``smoothing``,

.. math:: P_j(s \mid h_j) = \frac{n(h_j, s) + \alpha P_{j-1}(s \mid
          h_{j-1})}{n(h_j) + \alpha},\qquad P_{-1}(s) = \frac{1}{K + 2},

where :math:`h_j` is the last :math:`j` symbols (padded with a start
symbol) and :math:`s` ranges over the K channels, conversion and null. The
order with the best held-out score is ``order_``; all scores are in
``order_scores_``. The chain is then refitted on all journeys, unsmoothed.
The bootstrap keeps ``order_`` fixed.

References
----------
Anderl, E., Becker, I., von Wangenheim, F. and Schumann, J. H. (2016).
Mapping the customer journey: Lessons learned from graph-based online
attribution modeling. *International Journal of Research in Marketing*
33(3), 457-474.
Kemeny, J. G. and Snell, J. L. (1960). *Finite Markov Chains*, ch. 3
(absorbing chains, fundamental matrix). Van Nostrand.
Altomare, D. and Loris, D. ChannelAttribution (``markov_model``), 2.x.
Teh, Y. W. (2006). A hierarchical Bayesian language model based on
Pitman-Yor processes. *ACL* 44, 985-992 (back-off smoothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from attribution._base import AttributionModel
from attribution._encoding import EncodedPaths
from features.errors import ConfigError

__all__ = ["MarkovAttribution", "markov_removal_effects"]

logger = logging.getLogger(__name__)

DENSE_MAX_STATES = 64
_ORDERS = (1, 2, 3, 4)


@dataclass
class MarkovStructure:
    """Everything about the chain that depends on the paths, not the weights."""

    order: int
    channels: tuple[str, ...]
    n_states: int  # transient states, 0 = start
    state_codes: np.ndarray  # (S, order) channel codes, -1 padding (row 0: start)
    contains: np.ndarray  # (S, K) bool: state's tuple contains channel
    touch_edge: np.ndarray  # (m,) edge id of each touch's incoming transition
    lengths: np.ndarray  # (n_paths,) touches per path (CSR order of touch_edge)
    edge_from: np.ndarray  # (E,)
    edge_to: np.ndarray  # (E,)
    last_state: np.ndarray  # (n_paths,)
    cache: dict = field(default_factory=dict)


def _collapse(enc: EncodedPaths) -> EncodedPaths:
    """Merge consecutive repeats of a channel within each path."""
    path = enc.path_index
    keep = np.ones(len(enc.codes), dtype=bool)
    keep[1:] = (enc.codes[1:] != enc.codes[:-1]) | (path[1:] != path[:-1])
    lengths = np.bincount(path[keep], minlength=enc.n_paths)
    offsets = np.zeros(enc.n_paths + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return EncodedPaths(enc.channels, offsets, enc.codes[keep], enc.conversions, enc.nulls, enc.values)


def _history_keys(codes: np.ndarray, position: np.ndarray, base: int, order: int) -> np.ndarray:
    """Integer key of the tuple of the last ``min(position + 1, order)`` codes."""
    key = codes.astype(np.int64) + 1
    for m in range(1, order):
        prev = np.zeros(len(codes), dtype=np.int64)
        ok = position >= m
        prev[m:] = codes[:-m].astype(np.int64) + 1 if m < len(codes) else 0
        key = key + np.where(ok, prev, 0) * base**m
    return key


def build_structure(enc: EncodedPaths, order: int) -> MarkovStructure:
    """States, edges and their per-touch indices for an order-``order`` chain."""
    k_ch = enc.n_channels
    starts = enc.offsets[:-1]
    if order == 1:
        state = enc.codes.astype(np.int64) + 1
        n_states = k_ch + 1
        state_codes = np.full((n_states, 1), -1, dtype=np.int64)
        state_codes[1:, 0] = np.arange(k_ch)
    else:
        base = k_ch + 1
        position = np.arange(len(enc.codes), dtype=np.int64) - np.repeat(starts, enc.lengths)
        key = _history_keys(enc.codes, position, base, order)
        ids, uniques = pd.factorize(key, sort=True)
        state = ids.astype(np.int64) + 1
        n_states = len(uniques) + 1
        digits = (np.asarray(uniques, dtype=np.int64)[:, None] // base ** np.arange(order - 1, -1, -1)) % base
        state_codes = np.full((n_states, order), -1, dtype=np.int64)
        state_codes[1:] = digits - 1  # columns oldest..newest; -1 = no channel
    contains = np.zeros((n_states, k_ch), dtype=bool)
    rows = np.repeat(np.arange(n_states), state_codes.shape[1])
    cols = state_codes.ravel()
    ok = cols >= 0
    contains[rows[ok], cols[ok]] = True

    # incoming edge of every touch: (previous state or start) -> state
    edge_key = np.empty_like(state)
    edge_key[1:] = state[:-1] * n_states
    edge_key[starts] = 0
    edge_key += state
    if n_states <= 64:  # every (from, to) pair is an edge id; unused ones weigh 0
        edge_keys = np.arange(n_states * n_states, dtype=np.int64)
        touch_edge = edge_key
    else:
        touch_edge, edge_keys = pd.factorize(edge_key, sort=True)
        touch_edge = touch_edge.astype(np.int64)
        edge_keys = np.asarray(edge_keys, dtype=np.int64)
    return MarkovStructure(
        order=order,
        channels=enc.channels,
        n_states=n_states,
        state_codes=state_codes,
        contains=contains,
        touch_edge=touch_edge,
        lengths=enc.lengths,
        edge_from=edge_keys // n_states,
        edge_to=edge_keys % n_states,
        last_state=state[enc.offsets[1:] - 1],
    )


def _chain(st: MarkovStructure, conversions, nulls, values):
    """Transition probabilities (edge-wise), absorption vectors and flows."""
    s = st.n_states
    total = conversions + nulls
    edge_w = np.bincount(st.touch_edge, weights=np.repeat(total, st.lengths), minlength=len(st.edge_from))
    to_conv = np.bincount(st.last_state, weights=conversions, minlength=s)
    to_null = np.bincount(st.last_state, weights=nulls, minlength=s)
    value_in = np.bincount(st.last_state, weights=values, minlength=s)
    out = np.bincount(st.edge_from, weights=edge_w, minlength=s) + to_conv + to_null
    inv = np.divide(1.0, out, out=np.zeros(s), where=out > 0)
    q = edge_w * inv[st.edge_from]
    rhs = np.column_stack([to_conv * inv, value_in * inv])
    return q, rhs, to_conv * inv, to_null * inv


def markov_removal_effects(st: MarkovStructure, conversions, nulls, values, chain=None, solver="auto"):
    """Exact conversion probabilities with and without each channel.

    Parameters
    ----------
    st : structure from :func:`build_structure`.
    conversions, nulls, values : (n_paths,) weights.
    chain : optional result of ``_chain`` for these weights (reused).
    solver : {"auto", "dense", "sparse", "iterative"}
        ``dense``: batched LU of the K + 1 systems (numpy); ``sparse``: K + 1
        sparse LU solves (scipy ``spsolve``); ``iterative``: one batched
        fixed-point iteration for all systems (:func:`_fixed_point`).
        ``auto``: dense up to ``DENSE_MAX_STATES`` states, iterative above.

    Returns
    -------
    base : (2,) P(conversion) and expected value per journey from start.
    removed : (K, 2) the same with each channel removed.
    """
    q, rhs, _, _ = chain if chain is not None else _chain(st, conversions, nulls, values)
    s, k_ch = st.n_states, len(st.channels)
    method = solver if solver != "auto" else ("dense" if s <= DENSE_MAX_STATES else "iterative")
    if method == "dense":
        a = np.eye(s)
        np.subtract.at(a, (st.edge_from, st.edge_to), q)
        systems = np.broadcast_to(a, (k_ch + 1, s, s)).copy()
        rhss = np.broadcast_to(rhs, (k_ch + 1, s, 2)).copy()
        for c in range(k_ch):  # K masks, not a loop over paths
            gone = np.flatnonzero(st.contains[:, c])
            systems[c + 1, gone, :] = 0.0
            systems[c + 1, gone, gone] = 1.0
            rhss[c + 1, gone, :] = 0.0
        sol = np.linalg.solve(systems, rhss)[:, 0, :]
        return sol[0], sol[1:]
    q_mat = sp.csr_array((q, (st.edge_from, st.edge_to)), shape=(s, s))
    if method == "iterative":
        solved = _fixed_point(q_mat, rhs, st.contains)
        if solved is not None:
            return solved
        logger.info("markov: fixed-point iteration did not converge; falling back to sparse LU")
    a = (sp.identity(s, format="csr") - q_mat).tocsr()
    base = np.asarray(spsolve(a.tocsc(), rhs)).reshape(s, 2)[0]
    removed = np.zeros((k_ch, 2))
    for c in range(k_ch):
        keep = np.flatnonzero(~st.contains[:, c])
        sub = a[keep][:, keep].tocsc()
        removed[c] = np.asarray(spsolve(sub, rhs[keep])).reshape(len(keep), 2)[0]
    return base, removed


def _fixed_point(q_mat, rhs: np.ndarray, contains: np.ndarray, *, rtol: float = 1e-13, max_iter: int = 100_000):
    """All K + 1 systems at once by monotone fixed-point iteration.

    ``X <- M * (Q X + R)`` with one column pair (conversion, value) per
    system and ``M`` zeroing the removed states of each system. From
    ``X = R`` the iterates increase monotonically to the solution (``Q``,
    ``R`` >= 0); after a sweep with increment ``d`` the remaining error is at
    most ``d rho / (1 - rho)``, with ``rho`` the largest ratio of successive
    increments over the last 10 sweeps. Stops when that bound is below
    ``rtol`` times each column's largest entry; ``None`` if never.
    """
    s, k_ch = contains.shape
    mask = np.repeat(np.column_stack([np.ones(s, dtype=bool), ~contains]), 2, axis=1).astype(np.float64)
    r = np.tile(rhs, (1, k_ch + 1)) * mask
    x = r.copy()
    previous = None
    ratios: list[float] = []
    for _ in range(max_iter):
        new = mask * (q_mat @ x) + r
        step = np.abs(new - x).max(axis=0)
        x = new
        if not step.any():
            break
        if previous is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(previous > 0, step / previous, 0.0)
            ratios = (ratios + [float(ratio.max())])[-10:]
            rho = max(ratios)
            if len(ratios) >= 3 and rho < 1.0:
                bound = step * rho / (1.0 - rho)
                if np.all(bound <= rtol * x.max(axis=0)):
                    break
        previous = step
    else:
        return None
    out = x[0].reshape(k_ch + 1, 2)
    return out[0], out[1:]


def _normalise(effects: np.ndarray, total: float) -> np.ndarray:
    s = effects.sum()
    return effects / s * total if s > 0 else np.zeros_like(effects)


class MarkovAttribution(AttributionModel):
    """Order-k absorbing Markov chain attribution by exact removal effects.

    See the module docstring for the chain, the removal effects, value
    attribution, repeated channels and order selection.

    Parameters
    ----------
    order : {1, 2, 3, 4} or "auto", default 1
        Memory of the chain; ``"auto"`` picks it out of sample.
    collapse_repeats : bool, default False
        Merge consecutive repeats of a channel before building the chain.
    max_order : int, default 4
        Largest order tried by ``order="auto"``.
    holdout : float, default 0.2
        Fraction of journeys held out by ``order="auto"``.
    smoothing : float, default 1.0
        Back-off strength ``alpha`` used only to score held-out journeys.
    solver : {"auto", "dense", "sparse", "iterative"}, default "auto"
        How the K + 1 absorbing systems are solved: batched dense LU,
        sparse LU (``spsolve``) per system, or one batched fixed-point
        iteration with a certified error bound (relative 1e-13). ``auto``:
        dense up to 64 transient states (order 1 with up to 63 channels),
        iterative above (sparse LU fills in badly on order >= 3 chains).
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`;
        ``random_state`` also seeds the split of ``order="auto"``.

    Attributes
    ----------
    order_ : int, the order used.
    order_scores_ : dict {order: held-out log-likelihood per journey}
        (``order="auto"`` only).
    conversion_probability_ : float, P(conversion) from start.
    removal_effects_ : DataFrame, per channel: ``removal_effect`` (1 -
        P_without / P), ``removal_effect_value``, ``conversion_probability_without``,
        ``normalized`` (removal_effect / sum).
    transition_matrix_ : scipy.sparse.csr_array (S + 2, S + 2), rows/cols in
        ``states_`` order: start, channel-tuple states, ``(conversion)``,
        ``(null)``; absorbing rows have a 1 on the diagonal.
    states_ : ndarray of str, state labels (tuples joined by ``" > "``).
    """

    name = "markov"

    def __init__(
        self,
        *,
        order: int | str = 1,
        collapse_repeats: bool = False,
        max_order: int = 4,
        holdout: float = 0.2,
        smoothing: float = 1.0,
        solver: str = "auto",
        ci: float | None = None,
        n_boot: int = 200,
        random_state=None,
    ):
        self.order = order
        self.collapse_repeats = collapse_repeats
        self.max_order = max_order
        self.holdout = holdout
        self.smoothing = smoothing
        self.solver = solver
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _check_params(self):
        if self.order != "auto" and not (isinstance(self.order, (int, np.integer)) and self.order in _ORDERS):
            raise ConfigError(f"{self.name}: order={self.order!r} must be one of 1, 2, 3, 4 or 'auto'")
        if not (isinstance(self.max_order, (int, np.integer)) and self.max_order in _ORDERS):
            raise ConfigError(f"{self.name}: max_order={self.max_order!r} must be one of 1, 2, 3, 4")
        if not (isinstance(self.holdout, (int, float)) and 0 < self.holdout < 1):
            raise ConfigError(f"{self.name}: holdout={self.holdout!r} must be a fraction in (0, 1)")
        if not (isinstance(self.smoothing, (int, float)) and np.isfinite(self.smoothing) and self.smoothing > 0):
            raise ConfigError(f"{self.name}: smoothing={self.smoothing!r} must be a number > 0")
        if self.solver not in ("auto", "dense", "sparse", "iterative"):
            raise ConfigError(
                f"{self.name}: solver={self.solver!r} must be 'auto', 'dense', 'sparse' or 'iterative'"
            )

    def _label(self) -> str:
        return f"markov_order_{self.order_}"

    def _prepare(self, enc: EncodedPaths) -> MarkovStructure:
        if self.collapse_repeats:
            enc = _collapse(enc)
        if self.order == "auto":
            scores = heldout_scores(
                enc,
                max_order=int(self.max_order),
                holdout=float(self.holdout),
                smoothing=float(self.smoothing),
                random_state=self.random_state,
            )
            self.order_scores_ = scores
            self.order_ = max(scores, key=lambda k: (scores[k], -k))
        else:
            self.order_ = int(self.order)
            if hasattr(self, "order_scores_"):
                del self.order_scores_
        return build_structure(enc, self.order_)

    def _credit(self, prep: MarkovStructure, conversions, nulls, values):
        chain = _chain(prep, conversions, nulls, values)
        base, removed = markov_removal_effects(prep, conversions, nulls, values, chain, self.solver)
        prep.cache["chain"] = chain
        with np.errstate(divide="ignore", invalid="ignore"):
            effect = np.where(base > 0, 1.0 - removed / base, 0.0)
        effect = np.clip(effect, 0.0, 1.0)  # exact maths is in [0, 1]; clip rounding
        prep.cache["last"] = (base, removed, effect)
        return _normalise(effect[:, 0], conversions.sum()), _normalise(effect[:, 1], values.sum())

    def _finish(self, prep: MarkovStructure) -> None:
        base, removed, effect = prep.cache["last"]
        total = effect[:, 0].sum()
        self.conversion_probability_ = float(base[0])
        self.removal_effects_ = pd.DataFrame(
            {
                "channel": list(prep.channels),
                "removal_effect": effect[:, 0],
                "removal_effect_value": effect[:, 1],
                "conversion_probability_without": removed[:, 0],
                "normalized": effect[:, 0] / total if total > 0 else np.zeros(len(effect)),
            }
        )
        # transition matrix with labels, from the fitted weights
        q, _, p_conv, p_null = prep.cache["chain"]
        s = prep.n_states
        rows = np.concatenate([prep.edge_from, np.arange(s), np.arange(s), [s, s + 1]])
        cols = np.concatenate([prep.edge_to, np.full(s, s), np.full(s, s + 1), [s, s + 1]])
        data = np.concatenate([q, p_conv, p_null, [1.0, 1.0]])
        keep = data > 0
        self.transition_matrix_ = sp.csr_array((data[keep], (rows[keep], cols[keep])), shape=(s + 2, s + 2))
        self.states_ = _state_labels(prep)

    def transition_table(self) -> pd.DataFrame:
        """Fitted transitions as a long table ``state_from, state_to, probability``."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "transition_matrix_")
        coo = self.transition_matrix_.tocoo()
        return pd.DataFrame(
            {
                "state_from": self.states_[coo.row],
                "state_to": self.states_[coo.col],
                "probability": coo.data,
            }
        )


def _state_labels(st: MarkovStructure) -> np.ndarray:
    """Labels for start, tuple states, conversion, null (vectorised joins)."""
    names = np.array(list(st.channels) + [""], dtype=object)
    codes = st.state_codes[1:]
    label = names[codes[:, -1]]
    for j in range(codes.shape[1] - 2, -1, -1):
        part = names[codes[:, j]]
        label = np.where(codes[:, j] >= 0, part + " > " + label, label)
    return np.concatenate([["(start)"], label, ["(conversion)", "(null)"]]).astype(object)


def _thin(counts: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    whole = np.rint(counts).astype(np.int64)
    held = rng.binomial(whole, fraction).astype(np.float64)
    return whole - held, held


def heldout_scores(
    enc: EncodedPaths,
    *,
    max_order: int,
    holdout: float,
    smoothing: float,
    random_state=None,
) -> dict[int, float]:
    """Held-out log-likelihood per journey of orders 1..max_order (see module doc)."""
    rng = np.random.default_rng(random_state)
    conv_tr, conv_ho = _thin(enc.conversions, holdout, rng)
    null_tr, null_ho = _thin(enc.nulls, holdout, rng)
    n_held = conv_ho.sum() + null_ho.sum()
    if n_held <= 0 or conv_tr.sum() + null_tr.sum() <= 0:
        # too few journeys to split: fall back to order 1, no evidence for more
        return {1: 0.0}
    k_ch = enc.n_channels
    n_sym = k_ch + 2
    start_digit = k_ch + 1
    base = k_ch + 2
    path = enc.path_index
    n = enc.n_paths
    lengths = enc.lengths
    position = np.arange(len(enc.codes), dtype=np.int64) - enc.offsets[:-1][path]
    # events: every touch, then a conversion and a null event per path
    ev_anchor = np.concatenate([np.arange(len(enc.codes)), enc.offsets[1:], enc.offsets[1:]])
    ev_avail = np.concatenate([position, lengths, lengths])
    ev_sym = np.concatenate([enc.codes.astype(np.int64), np.full(n, k_ch), np.full(n, k_ch + 1)])
    w_tr = np.concatenate([(conv_tr + null_tr)[path], conv_tr, null_tr])
    w_ho = np.concatenate([(conv_ho + null_ho)[path], conv_ho, null_ho])
    live = (w_tr > 0) | (w_ho > 0)
    ev_anchor, ev_avail, ev_sym, w_tr, w_ho = (a[live] for a in (ev_anchor, ev_avail, ev_sym, w_tr, w_ho))
    codes64 = np.concatenate([enc.codes.astype(np.int64), [0]])

    prob = np.full(len(ev_sym), 1.0 / n_sym)
    key = np.zeros(len(ev_sym), dtype=np.int64)
    scores: dict[int, float] = {}
    for level in range(0, max_order + 1):
        if level > 0:
            digit = np.where(ev_avail >= level, codes64[np.maximum(ev_anchor - level, 0)] + 1, start_digit)
            key = key * base + digit
        ctx_id, _ = pd.factorize(key)
        pair_id, _ = pd.factorize(key * n_sym + ev_sym)
        n_ctx = np.bincount(ctx_id, weights=w_tr)
        n_pair = np.bincount(pair_id, weights=w_tr)
        prob = (n_pair[pair_id] + smoothing * prob) / (n_ctx[ctx_id] + smoothing)
        if level >= 1:
            scores[level] = float(np.sum(w_ho * np.log(prob)) / n_held)
    return scores
