"""Attribution models: turn a path table into credit per channel.

Public face of the package (DESIGN.md): every model is a scikit-learn style
estimator taking the path table (``path``, ``total_conversions``,
``total_null``, ``total_conversion_value``) and producing the long result
frame (``model``, ``channel``, ``credit_conversions``, ``credit_value``,
``share`` [+ ``ci_low``, ``ci_high``, ``share_ci_low``, ``share_ci_high``,
``value_ci_low``, ``value_ci_high``]).

>>> from attribution import make_model
>>> model = make_model("markov", order=2).fit(paths)     # doctest: +SKIP
>>> model.result_                                        # doctest: +SKIP
"""

from attribution._base import AttributionModel
from attribution._breakdowns import (
    attribute_by_role,
    attribute_by_stage,
    compare_abm,
    paths_from_touches,
    touch_roles,
)
from attribution._data_driven import DataDrivenLR, DataDrivenXGB
from attribution._encoding import EncodedPaths, encode_paths
from attribution._heuristics import FirstTouch, LastTouch, Linear, PositionBased, TimeDecay
from attribution._markov import MarkovAttribution
from attribution._milestones import LEAD_SIGNALS, FullPath, WShaped
from attribution._registry import JOURNEY_MODELS, MODELS, attribute, make_model
from attribution._shapley_models import Shapley, ShapleyOrdered, ShapleyRate
from attribution._result import CI_COLUMNS, RESULT_COLUMNS

__all__ = [
    "AttributionModel",
    "EncodedPaths",
    "encode_paths",
    "FirstTouch",
    "LastTouch",
    "Linear",
    "PositionBased",
    "TimeDecay",
    "MarkovAttribution",
    "Shapley",
    "ShapleyRate",
    "ShapleyOrdered",
    "DataDrivenXGB",
    "DataDrivenLR",
    "WShaped",
    "FullPath",
    "LEAD_SIGNALS",
    "MODELS",
    "JOURNEY_MODELS",
    "make_model",
    "attribute",
    "attribute_by_role",
    "attribute_by_stage",
    "compare_abm",
    "paths_from_touches",
    "touch_roles",
    "RESULT_COLUMNS",
    "CI_COLUMNS",
]
