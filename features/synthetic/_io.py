"""Writing a synthetic data set to disk, byte-for-byte reproducibly.

CSV files are written with pyarrow: timestamps as ISO 8601 UTC with a ``Z``
(``2024-03-01T10:15:00Z``), missing values as empty cells, booleans as
``true``/``false``. Parquet keeps the in-memory types (``timestamp[ns, UTC]``).
``ground_truth.json`` has sorted keys and an indent of 2. The same data set
always gives the same bytes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features.contracts import TABLE_ORDER
from features.errors import ConfigError, InputFileError

from ._generate import SyntheticDataset

__all__ = ["write_dataset"]

logger = logging.getLogger(__name__)

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Column by column: no pandas metadata, no deprecated tz-dropping ``.values``."""
    arrays = []
    for col in frame.columns:
        s = frame[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            naive = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
            arr = pa.array(
                naive.view(np.int64), mask=np.isnat(naive),
                type=pa.timestamp("ns", tz="UTC"),
            )
        elif isinstance(s.dtype, pd.StringDtype):
            arr = pa.array(s.array, type=pa.large_string())
        else:
            arr = pa.array(s.to_numpy(), from_pandas=True)  # NaN -> null
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def _csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ISO 8601 strings with ``Z`` (second resolution)."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            secs = pc.cast(table.column(i), pa.timestamp("s", tz="UTC"), safe=False)
            table = table.set_column(i, f.name, pc.strftime(secs, format=ISO_UTC))
    return table


def write_dataset(
    dataset: SyntheticDataset,
    out_dir: str | Path,
    *,
    format: Literal["csv", "parquet"] = "csv",
) -> dict[str, Path]:
    """Write every table and ``ground_truth.json`` to ``out_dir``.

    Parameters
    ----------
    dataset : SyntheticDataset
        The output of :func:`generate_dataset`.
    out_dir : str or Path
        Folder to write into (created if missing).
    format : {"csv", "parquet"}, default "csv"
        File format of the tables.

    Returns
    -------
    dict of str to Path
        Table name (and ``"ground_truth"``) to the file written.
    """
    if format not in ("csv", "parquet"):
        raise ConfigError(f"format must be 'csv' or 'parquet', got {format!r}")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(f"cannot create output folder {out}: {exc}") from exc
    paths: dict[str, Path] = {}
    names = [t for t in TABLE_ORDER if t in dataset.tables]
    names += sorted(set(dataset.tables) - set(names))
    for name in names:
        table = _to_arrow(dataset.tables[name])
        path = out / f"{name}.{format}"
        if format == "csv":
            table = _csv_ready(table)
            try:
                options = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
                pacsv.write_csv(table, path, options)
            except pa.ArrowInvalid:  # a value needs quoting
                pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_header="none"))
        else:
            pq.write_table(table, path, compression="zstd")
        paths[name] = path
        logger.info("wrote %s (%d rows)", path.name, table.num_rows)
    gt = out / "ground_truth.json"
    text = json.dumps(dataset.ground_truth, sort_keys=True, indent=2) + "\n"
    gt.write_text(text, encoding="utf-8")
    paths["ground_truth"] = gt
    return paths
