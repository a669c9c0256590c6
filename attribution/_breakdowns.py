r"""Breakdowns of attribution credit: buying role, funnel stage, ABM vs non-ABM.

Account breakdowns (segment, region, business unit, ABM tier) are columns of
the path table and go through ``by=`` of :func:`attribution.attribute`. The
helpers here add the breakdowns a path table cannot express.

By buying role (:func:`attribute_by_role`)
------------------------------------------
Who in the buying committee was touched. Each touch gets a role: the
contact's ``buying_role``; ``"unknown"`` for an identified contact without
one; ``"anonymous"`` for a touch without contact (intent, anonymous web).
Two definitions:

``method="split"`` (default; any model)
    The model is fitted on the channel path table of the journeys; channel
    :math:`k`'s credit is then split over roles by the average, over the
    converting journeys that touched :math:`k` (weighted by their
    conversions), of the share of :math:`k`'s touches made by role
    :math:`r`:

    .. math:: \text{credit}_{k,r} = \text{credit}_k\,
              \frac{\sum_i c_i\, n_{ikr} / n_{ik}}{\sum_i c_i 1[n_{ik} > 0]}.

    Channel totals are exactly the model's.
``method="tokens"``
    The model runs on paths over ``channel|role`` tokens (a touch of
    ``email`` by a champion is the token ``email|champion``), so the model
    itself credits (channel, role) pairs; the tokens are split back into two
    columns. Channel totals differ from a channel-only run (the model sees
    more, sparser states).

By funnel stage transition (:func:`attribute_by_stage`)
-------------------------------------------------------
For each opportunity, its ``opportunity_stages`` rows ordered by
``entered_at`` give transitions ``s_j -> s_{j+1}``. The touches of the
opportunity's account with ``entered_at(s_j) < timestamp <=
entered_at(s_{j+1})`` (touches exactly at the entry of ``s_j`` belong to the
previous transition) are the window of that move; transition ``j`` is one
"conversion" of value ``amount`` credited within its window by ``rule``:
``"linear"`` (each touch ``1/L``) or ``"last_touch"``. The first stage's
entry (opportunity creation) has no window here (that is the journey's
conversion, attributed by the path-table models). Moves into
``closed_lost`` are skipped unless ``include_lost=True``. Transitions
without touches are counted in the ``transitions_without_touches`` column
and carry no credit. ``share`` is within a transition (and slice), so the
table reads "which channels moved deals from ``s_j`` to ``s_{j+1}``".

ABM vs non-ABM (:func:`compare_abm`)
------------------------------------
The model is fitted separately on the ABM accounts' paths (``abm_tier`` not
in ``non_abm``) and on the others; the wide table has per channel
``share_abm``, ``share_non_abm``, ``share_diff = share_abm -
share_non_abm`` and both credit columns (0 where a channel is absent from
one side).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution._base import AttributionModel
from attribution._encoding import require_columns
from attribution._registry import make_model
from features.errors import ConfigError, DataValidationError, SchemaError

__all__ = ["paths_from_touches", "touch_roles", "attribute_by_role", "attribute_by_stage", "compare_abm"]

_SEP = " > "


def _model(model: str | AttributionModel) -> AttributionModel:
    from sklearn.base import clone

    return make_model(model) if isinstance(model, str) else clone(model)


def touch_roles(touches: pd.DataFrame, *, role_col: str = "buying_role", contact_col: str = "contact_id") -> pd.Series:
    """Role of every touch: the buying role, ``"unknown"`` or ``"anonymous"`` (module docstring)."""
    role = touches[role_col].astype("string")
    anonymous = touches[contact_col].isna()
    return role.mask(role.isna() & ~anonymous, "unknown").mask(anonymous, "anonymous").astype(str)


def _journey_order(touches: pd.DataFrame, journey_col: str, order_col: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    t = touches.sort_values([journey_col, order_col], kind="stable")
    journey, _ = pd.factorize(t[journey_col], sort=False)
    n = int(journey.max()) + 1 if len(journey) else 0
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(journey, minlength=n), out=offsets[1:])
    return t, journey, offsets


def paths_from_touches(
    touches: pd.DataFrame,
    tokens: pd.Series | np.ndarray | None = None,
    *,
    journey_col: str = "journey_id",
    order_col: str = "touch_order",
    channel_col: str = "channel",
    converted_col: str = "converted",
    value_col: str = "conversion_value",
) -> pd.DataFrame:
    """Path table of a journey touch table, optionally over other tokens.

    Parameters
    ----------
    touches : DataFrame, one row per touch (``Journeys.touches``).
    tokens : (n_touches,) labels aligned with ``touches`` rows, default the
        channel; e.g. ``channel + "|" + role``.
    journey_col, order_col, channel_col, converted_col, value_col : names.

    Returns
    -------
    DataFrame ``path``, ``total_conversions``, ``total_null``,
    ``total_conversion_value``, one row per distinct path (sorted by path).
    """
    require_columns(touches, "touches", [journey_col, order_col, channel_col, converted_col, value_col], "paths_from_touches")
    if len(touches) == 0:
        raise DataValidationError("paths_from_touches: the touch table is empty")
    labels = touches[channel_col] if tokens is None else pd.Series(np.asarray(tokens, dtype=object), index=touches.index)
    t, journey, offsets = _journey_order(touches.assign(_token=labels.astype(str)), journey_col, order_col)
    arr = pa.array(t["_token"].to_numpy(dtype=object), type=pa.large_string())
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), arr)
    path = pc.binary_join(lists, pa.scalar(_SEP, type=pa.large_string())).to_numpy(zero_copy_only=False)
    n = len(offsets) - 1
    converted = np.zeros(n)
    np.maximum.at(converted, journey, t[converted_col].to_numpy(dtype=np.float64))
    value = np.zeros(n)
    np.maximum.at(value, journey, np.nan_to_num(t[value_col].to_numpy(dtype=np.float64)))
    frame = pd.DataFrame({"path": path, "total_conversions": converted, "total_null": 1.0 - converted,
                          "total_conversion_value": value * (converted > 0)})
    return frame.groupby("path", sort=True, as_index=False).sum()


def attribute_by_role(
    touches: pd.DataFrame,
    model: str | AttributionModel = "linear",
    *,
    method: str = "split",
    role_col: str = "buying_role",
    contact_col: str = "contact_id",
    journey_col: str = "journey_id",
    order_col: str = "touch_order",
    channel_col: str = "channel",
    converted_col: str = "converted",
    value_col: str = "conversion_value",
) -> pd.DataFrame:
    """Credit per (channel, buying role) (module docstring).

    Parameters
    ----------
    touches : journey touch table with ``buying_role`` and ``contact_id``.
    model : registry name or estimator (cloned).
    method : {"split", "tokens"}, default "split".
    role_col, contact_col, journey_col, order_col, channel_col, converted_col,
    value_col : column names.

    Returns
    -------
    DataFrame ``model``, ``channel``, ``buying_role``, ``credit_conversions``,
    ``credit_value``, ``share`` (of all conversions), rows with zero credit
    dropped, sorted by channel and role.
    """
    who = "attribute_by_role"
    if method not in ("split", "tokens"):
        raise ConfigError(f"{who}: method={method!r} must be 'split' or 'tokens'")
    require_columns(touches, "touches", [role_col, contact_col, journey_col, order_col, channel_col, converted_col,
                                  value_col], who)
    if len(touches) == 0:
        raise DataValidationError(f"{who}: the touch table is empty; nothing to attribute")
    est = _model(model)
    role = touch_roles(touches, role_col=role_col, contact_col=contact_col)
    cols = dict(journey_col=journey_col, order_col=order_col, channel_col=channel_col,
                converted_col=converted_col, value_col=value_col)
    if method == "tokens":
        channel = touches[channel_col].astype(str).str.strip()
        bad = channel.str.contains("|", regex=False) | role.str.contains("|", regex=False)
        if bad.any():
            raise DataValidationError(f"{who}: a channel or role contains '|', which tokens use as separator")
        result = est.fit(paths_from_touches(touches, channel + "|" + role, **cols)).result_
        split = result["channel"].str.split("|", n=1, expand=True)
        out = result.drop(columns="channel").assign(channel=split[0], buying_role=split[1])
    else:
        result = est.fit(paths_from_touches(touches, **cols)).result_
        t, journey, _ = _journey_order(touches.assign(_role=role), journey_col, order_col)
        conv = np.zeros(int(journey.max()) + 1)
        np.maximum.at(conv, journey, t[converted_col].to_numpy(dtype=np.float64))
        on = conv[journey] > 0
        frame = pd.DataFrame({"j": journey[on], "channel": t[channel_col].astype(str).str.strip().to_numpy()[on],
                              "buying_role": t["_role"].to_numpy()[on]})
        n_jkr = frame.groupby(["j", "channel", "buying_role"], sort=False).size().rename("n").reset_index()
        n_jk = n_jkr.groupby(["j", "channel"], sort=False)["n"].transform("sum")
        n_jkr["w"] = conv[n_jkr["j"].to_numpy()] * n_jkr["n"] / n_jk
        num = n_jkr.groupby(["channel", "buying_role"], sort=True)["w"].sum()
        den = num.groupby(level="channel").sum()
        share = (num / den.reindex(num.index.get_level_values("channel")).to_numpy()).rename("role_share")
        merged = result.merge(share.reset_index(), on="channel", how="left")
        merged["role_share"] = merged["role_share"].fillna(0.0)
        for c in ("credit_conversions", "credit_value"):
            merged[c] = merged[c] * merged["role_share"]
        out = merged.drop(columns="role_share")
    total = out["credit_conversions"].sum()
    out["share"] = out["credit_conversions"] / total
    out = out[out["credit_conversions"] != 0]
    columns = ["model", "channel", "buying_role", "credit_conversions", "credit_value", "share"]
    return out[columns].sort_values(["channel", "buying_role"]).reset_index(drop=True)


def _search_right(t_acc: np.ndarray, t_ns: np.ndarray, q_acc: np.ndarray, q_ns: np.ndarray) -> np.ndarray:
    """``searchsorted(side="right")`` of (account, time) queries in touches sorted by (account, time)."""
    n_t = len(t_acc)
    acc = np.concatenate([t_acc, q_acc])
    ns = np.concatenate([t_ns, q_ns])
    is_query = np.concatenate([np.zeros(n_t, dtype=bool), np.ones(len(q_acc), dtype=bool)])
    order = np.lexsort((is_query, ns, acc))  # touches first at equal keys: side="right"
    touches_before = np.cumsum(~is_query[order])
    out = np.empty(len(q_acc), dtype=np.int64)
    at = np.flatnonzero(is_query[order])
    out[order[at] - n_t] = touches_before[at]
    return out


def attribute_by_stage(
    touchpoints: pd.DataFrame,
    opportunities: pd.DataFrame,
    opportunity_stages: pd.DataFrame,
    *,
    rule: str = "linear",
    include_lost: bool = False,
    accounts: pd.DataFrame | None = None,
    by: str | Sequence[str] | None = None,
    channel_groups: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Credit of each stage move to the touches that preceded it (module docstring).

    Parameters
    ----------
    touchpoints : clean touchpoints (``account_id``, ``timestamp``,
        ``channel``).
    opportunities : ``opportunity_id``, ``account_id``, ``amount``.
    opportunity_stages : ``opportunity_id``, ``stage``, ``entered_at``.
    rule : {"linear", "last_touch"}, default "linear".
    include_lost : bool, default False
        Also credit moves into ``closed_lost``.
    accounts, by : ``accounts`` table and its column(s) to slice by
        (e.g. ``"abm_tier"``).
    channel_groups : optional raw channel -> group mapping.

    Returns
    -------
    DataFrame: [by...], ``from_stage``, ``to_stage``, ``channel``,
    ``credit_conversions`` (transitions credited), ``credit_value``
    (amounts), ``share`` (within the transition and slice),
    ``transitions`` (moves in the slice), ``transitions_without_touches``.
    ``attrs["transitions"]`` lists every transition kind with these two
    counts, including kinds whose moves all had no touch (no credit rows).
    """
    who = "attribute_by_stage"
    if rule not in ("linear", "last_touch"):
        raise ConfigError(f"{who}: rule={rule!r} must be 'linear' or 'last_touch'")
    require_columns(touchpoints, "touchpoints", ["account_id", "timestamp", "channel"], who)
    require_columns(opportunities, "opportunities", ["opportunity_id", "account_id", "amount"], who)
    require_columns(opportunity_stages, "opportunity_stages", ["opportunity_id", "stage", "entered_at"], who)
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if keys:
        if accounts is None:
            raise SchemaError(f"{who}: by={keys!r} needs the accounts table; pass accounts=...")
        require_columns(accounts, "accounts", ["account_id", *keys], who)

    st = opportunity_stages.merge(opportunities[["opportunity_id", "account_id", "amount"]], on="opportunity_id",
                                  how="inner")
    st = st.assign(entered_ns=pd.to_datetime(st["entered_at"], utc=True).to_numpy(dtype="datetime64[ns]")
                   .astype(np.int64))
    st = st.sort_values(["opportunity_id", "entered_ns"], kind="stable").reset_index(drop=True)
    same = (st["opportunity_id"].to_numpy()[1:] == st["opportunity_id"].to_numpy()[:-1])
    prev, nxt = np.flatnonzero(same), np.flatnonzero(same) + 1
    moves = pd.DataFrame({
        "account_id": st["account_id"].to_numpy()[nxt],
        "from_stage": st["stage"].to_numpy()[prev],
        "to_stage": st["stage"].to_numpy()[nxt],
        "start": st["entered_ns"].to_numpy()[prev],
        "end": st["entered_ns"].to_numpy()[nxt],
        "amount": np.nan_to_num(st["amount"].to_numpy(dtype=np.float64)[nxt]),
    })
    if not include_lost:
        moves = moves[moves["to_stage"] != "closed_lost"].reset_index(drop=True)
    if keys:
        moves = moves.merge(accounts[["account_id", *keys]].drop_duplicates("account_id"), on="account_id",
                            how="left")
    if len(moves) == 0:
        raise DataValidationError(f"{who}: no stage transition to credit")

    # touches sorted by (account, time); windows as index ranges by binary search
    tp = touchpoints[["account_id", "timestamp", "channel"]]
    acc_codes, _ = pd.factorize(pd.concat([tp["account_id"], moves["account_id"]], ignore_index=True))
    t_acc, m_acc = acc_codes[: len(tp)], acc_codes[len(tp):]
    t_ns = pd.to_datetime(tp["timestamp"], utc=True).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    order = np.lexsort((t_ns, t_acc))
    t_acc, t_ns = t_acc[order], t_ns[order]
    channel = tp["channel"].astype(str).str.strip().to_numpy()[order]
    if channel_groups is not None:
        raw = pd.Series(channel)
        channel = raw.map(dict(channel_groups)).fillna(raw).to_numpy()
    lo = _search_right(t_acc, t_ns, m_acc, moves["start"].to_numpy())
    hi = _search_right(t_acc, t_ns, m_acc, moves["end"].to_numpy())
    length = np.maximum(hi - lo, 0)
    moves["n_touches"] = length
    if rule == "last_touch":
        has = length > 0
        window = np.flatnonzero(has)
        touch = hi[has] - 1
        frac = np.ones(len(window))
    else:
        window = np.repeat(np.arange(len(moves)), length)
        touch = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length) + lo[window]
        frac = 1.0 / length[window]
    group_cols = [*keys, "from_stage", "to_stage"]
    credit = pd.DataFrame({c: moves[c].to_numpy()[window] for c in group_cols})
    credit["channel"] = channel[touch]
    credit["credit_conversions"] = frac
    credit["credit_value"] = frac * moves["amount"].to_numpy()[window]
    out = credit.groupby([*group_cols, "channel"], sort=True, dropna=False, as_index=False)[
        ["credit_conversions", "credit_value"]].sum()
    totals = moves.assign(empty=moves["n_touches"] == 0).groupby(group_cols, dropna=False).agg(
        transitions=("n_touches", "size"), transitions_without_touches=("empty", "sum"))
    out = out.merge(totals.reset_index(), on=group_cols, how="left")
    out["share"] = out["credit_conversions"] / out.groupby(group_cols, dropna=False)["credit_conversions"].transform("sum")
    stage_rank = {s: i for i, s in enumerate(("qualification", "discovery", "solution", "proposal", "negotiation",
                                             "closed_won", "closed_lost"))}
    out["_r"] = out["from_stage"].map(stage_rank).fillna(99) * 100 + out["to_stage"].map(stage_rank).fillna(99)
    out = out.sort_values([*keys, "_r", "channel"], kind="stable").drop(columns="_r").reset_index(drop=True)
    out = out[[*group_cols, "channel", "credit_conversions", "credit_value", "share", "transitions",
               "transitions_without_touches"]]
    out.attrs["transitions"] = totals.reset_index()
    return out


def compare_abm(
    paths: pd.DataFrame,
    model: str | AttributionModel = "markov",
    *,
    tier_col: str = "abm_tier",
    non_abm: Sequence[str] = ("none",),
    **columns: Any,
) -> pd.DataFrame:
    """ABM vs non-ABM accounts side by side (module docstring).

    Parameters
    ----------
    paths : path table with the ``abm_tier`` breakdown column.
    model : registry name or estimator (cloned).
    tier_col : tier column.
    non_abm : tier values of non-ABM accounts (default ``("none",)``);
        missing tiers count as non-ABM.
    **columns : ``path_col``, ``conv_col``... as in ``fit``.

    Returns
    -------
    DataFrame indexed by channel: ``share_abm``, ``share_non_abm``,
    ``share_diff``, ``credit_abm``, ``credit_non_abm``, ``value_abm``,
    ``value_non_abm``; attribute ``attrs["model"]``.
    """
    who = "compare_abm"
    require_columns(paths, "path", [tier_col], who)
    is_abm = ~(paths[tier_col].isin(list(non_abm)) | paths[tier_col].isna())
    sides = {}
    for side, part in (("abm", paths[is_abm.to_numpy()]), ("non_abm", paths[~is_abm.to_numpy()])):
        if len(part) == 0:
            raise DataValidationError(f"{who}: no {side.replace('_', '-')} paths (tier column {tier_col!r})")
        est = _model(model)
        result = est.fit(part, **columns).result_.set_index("channel")
        sides[side] = result
        label = result["model"].iloc[0]
    index = sides["abm"].index.union(sides["non_abm"].index).sort_values()
    out = pd.DataFrame(index=pd.Index(index, name="channel"))
    for side, result in sides.items():
        r = result.reindex(index)
        out[f"share_{side}"] = r["share"].fillna(0.0).to_numpy()
        out[f"credit_{side}"] = r["credit_conversions"].fillna(0.0).to_numpy()
        out[f"value_{side}"] = r["credit_value"].fillna(0.0).to_numpy()
    out["share_diff"] = out["share_abm"] - out["share_non_abm"]
    out = out[["share_abm", "share_non_abm", "share_diff", "credit_abm", "credit_non_abm", "value_abm",
               "value_non_abm"]]
    out.attrs["model"] = label
    return out
