"""Model registry: names used in configs -> estimator classes.

``MODELS`` maps each model's registry name (its ``name`` class attribute,
also the ``model`` column of results) to its class: the models fitted on a
path table. ``JOURNEY_MODELS`` lists the milestone models, which need the
journey touch table and the opportunities (``fit_journeys``) and refuse a
path table. :func:`make_model` builds either kind from a config entry and :func:`attribute` runs several models on
one path table, encoding it once.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import clone

from attribution._base import AttributionModel
from attribution._data_driven import DataDrivenLR, DataDrivenXGB
from attribution._encoding import EncodedPaths, encode_paths
from attribution._heuristics import FirstTouch, LastTouch, Linear, PositionBased, TimeDecay
from attribution._markov import MarkovAttribution
from attribution._milestones import FullPath, WShaped
from attribution._shapley_models import Shapley, ShapleyOrdered, ShapleyRate
from features.errors import ConfigError, SchemaError

__all__ = ["MODELS", "JOURNEY_MODELS", "make_model", "attribute"]

MODELS: dict[str, type[AttributionModel]] = {
    cls.name: cls
    for cls in (
        FirstTouch,
        LastTouch,
        Linear,
        PositionBased,
        TimeDecay,
        MarkovAttribution,
        Shapley,
        ShapleyRate,
        ShapleyOrdered,
        DataDrivenXGB,
        DataDrivenLR,
    )
}

JOURNEY_MODELS: dict[str, type[AttributionModel]] = {cls.name: cls for cls in (WShaped, FullPath)}


def make_model(name: str, **params: Any) -> AttributionModel:
    """Build a registered model by name with the given hyperparameters.

    Raises
    ------
    ConfigError
        Unknown name (the message lists the known ones) or unknown parameter.
    """
    try:
        cls = {**MODELS, **JOURNEY_MODELS}[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown attribution model {name!r}; known models: {', '.join(sorted(MODELS))} "
            f"(journey tables: {', '.join(sorted(JOURNEY_MODELS))})"
        ) from None
    try:
        return cls(**params)
    except TypeError as exc:
        known = sorted(cls().get_params())
        raise ConfigError(
            f"attribution model {name!r}: bad parameters {sorted(params)} ({exc}); "
            f"known parameters: {', '.join(known)}"
        ) from None


def attribute(
    paths: pd.DataFrame | EncodedPaths,
    models: list[str | AttributionModel] | tuple[str | AttributionModel, ...] = ("first_touch", "last_touch", "linear"),
    *,
    by: str | list[str] | None = None,
    **columns: Any,
) -> pd.DataFrame:
    """Run several models on one path table and stack their result frames.

    The table is validated and encoded once (per slice with ``by``).

    Parameters
    ----------
    paths : path table or :class:`EncodedPaths`.
    models : registry names or (unfitted) estimators; estimators are cloned.
    by : breakdown column(s): fit every model on every slice.
    **columns : ``path_col``, ``conv_col``, ``null_col``, ``value_col``, ``sep``.

    Returns
    -------
    DataFrame in the result contract, models stacked in the given order.
    """
    estimators = [make_model(m) if isinstance(m, str) else clone(m) for m in models]
    if not estimators:
        raise ConfigError("attribute: no model given; pass names from " + ", ".join(sorted(MODELS)))
    if by is not None:
        if not isinstance(paths, pd.DataFrame):
            raise SchemaError("attribute: by= needs a path table DataFrame with the breakdown columns")
        parts = [est.attribute(paths, by=by, **columns) for est in estimators]
        out = pd.concat(parts, ignore_index=True)
        out.attrs["skipped_slices"] = parts[0].attrs.get("skipped_slices", [])
        return out
    enc = paths if isinstance(paths, EncodedPaths) else encode_paths(paths, model="attribute", **columns)
    return pd.concat([est.fit(enc).result_ for est in estimators], ignore_index=True)
