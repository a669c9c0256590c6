"""Realistic synthetic ABM data with planted ground truth.

:func:`generate_dataset` simulates a B2B group's accounts, buying committees,
touchpoints over 18 signals and 14 channels, opportunities with stage histories,
renewal contracts and monthly spend, all obeying the input contracts of
:mod:`features.contracts`; :func:`write_dataset` writes them as CSV or Parquet
with ``ground_truth.json``. The generative model is documented in
:mod:`features.synthetic._generate` and the planted parameters in
:mod:`features.synthetic._params`.

Examples
--------
>>> from features.synthetic import generate_dataset
>>> ds = generate_dataset(200, seed=1)
>>> sorted(ds.tables)[:3]
['accounts', 'contacts', 'contracts']
"""

from __future__ import annotations

from ._generate import SyntheticDataset, generate_dataset
from ._io import write_dataset
from ._params import GENERATOR_VERSION

__all__ = ["GENERATOR_VERSION", "SyntheticDataset", "generate_dataset", "write_dataset"]
