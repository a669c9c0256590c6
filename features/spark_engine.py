"""The path table on Apache Spark: same definitions as :mod:`features.journeys`.

DESIGN.md ("Scale: sufficient statistics"): at scale Spark builds the path
table from Parquet, and the same attribution code runs on the result. This
module implements **exactly** the definitions of the :mod:`features.journeys`
module docstring (conversion events, windows ``(T_prev, T] ∩ [T - L, T]``,
the non-converting tail ``(T_last, end] ∩ [end - L, end]``, order by
timestamp then ``touchpoint_id``, channel grouping, collapse, maximum length,
breakdowns, conversions without touches excluded), so that
``build_path_table_spark(...).toPandas()`` equals
``build_journeys(...).paths``: same columns, dtypes, rows and order (a parity
test, ``tests/features/test_spark_engine.py``).

The Spark plan (one window over the union of touches and events per account,
then a group-by of journeys and one of paths; no Python UDF) is described in
:mod:`features._spark_paths`.

Differences from the pandas engine, on purpose
----------------------------------------------
- **Validation stays in pandas for now.** The inputs are expected to satisfy
  the contracts (:mod:`features.validation`): the Spark engine checks only
  that the columns exist and that the timestamps are UTC ``TIMESTAMP``; it
  does not refuse empty tables, null ids or times, duplicate
  ``accounts.account_id`` (which would double-count breakdown rows) or
  channel names with ``">"``. Rows with a null conversion time are not events.
- **No statistics.** Only the path table is built (no ``JourneyStats``, no
  journey-level tables, no accounting check); the parity test checks the
  table against the pandas engine, which checks the accounting.
- **Microsecond resolution.** Spark timestamps are microseconds; inputs with
  sub-microsecond times may differ from the pandas engine (the contract's
  data, from CSV or the generator, are in seconds).

pyspark is an optional dependency (``pip install -e ".[spark]"``), imported
only when a function of this module is called; ``features`` imports without
it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from features._spark_paths import SUPPORTED_OPTIONS, path_table_plan
from features.contracts import CONTRACTS, REQUIRED_TABLES
from features.errors import ConfigError, InputFileError, SchemaError, WorkbenchError
from features.journeys import JourneyConfig

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "SparkNotInstalledError",
    "SUPPORTED_OPTIONS",
    "build_path_table_spark",
    "read_tables_spark",
]

logger = logging.getLogger(__name__)

_SPARK_TYPES = {
    "id": "string",
    "str": "string",
    "datetime": "timestamp",
    "float": "double",
    "bool": "boolean",
}
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


class SparkNotInstalledError(WorkbenchError, ImportError):
    """pyspark, an optional dependency, is not installed."""


def _pyspark() -> tuple[Any, Any]:
    """``(pyspark.sql.functions, Window)``, or an install hint."""
    try:
        from pyspark.sql import Window
        from pyspark.sql import functions as F
    except ImportError as exc:
        raise SparkNotInstalledError(
            "the Spark engine needs pyspark, an optional dependency: install it with "
            'pip install -e ".[spark]" (it also needs Java 17 or later)'
        ) from exc
    return F, Window


def build_path_table_spark(
    spark: SparkSession,
    touchpoints: DataFrame,
    opportunities: DataFrame,
    accounts: DataFrame | None = None,
    *,
    config: JourneyConfig | None = None,
) -> DataFrame:
    """Build the path table with Spark (lazily: no job runs until an action).

    Parameters
    ----------
    spark : SparkSession
        The session (kept for symmetry with :func:`read_tables_spark`; the
        plan uses the session of the input frames).
    touchpoints : pyspark DataFrame
        Columns used: touchpoint_id, account_id, timestamp (``TIMESTAMP``,
        UTC), channel.
    opportunities : pyspark DataFrame
        opportunity_id, account_id, amount, and created_at
        (``opportunity_created``) or is_won, closed_at (``closed_won``).
    accounts : pyspark DataFrame, optional
        account_id and the breakdown columns; required when
        ``config.breakdowns`` is not empty.
    config : JourneyConfig, optional
        Defaults to ``JourneyConfig()``. Every option is supported
        (:data:`SUPPORTED_OPTIONS`); ``unmapped_channels="error"`` runs one
        small job (the distinct unmapped channels) before returning.

    Returns
    -------
    pyspark DataFrame
        breakdowns..., ``path`` (string), ``total_conversions`` (bigint),
        ``total_null`` (bigint), ``total_conversion_value`` (double), sorted
        by breakdowns (nulls last), then path: after ``toPandas()`` the same
        frame as ``build_journeys(...).paths``.

    Raises
    ------
    SparkNotInstalledError
        pyspark is missing.
    SchemaError
        A column is missing, or a timestamp column is not a UTC ``TIMESTAMP``.
    ConfigError
        A bad config, an option the engine does not support, or unmapped
        channels with ``unmapped_channels="error"``.

    Examples
    --------
    >>> tables = read_tables_spark(spark, "data/")  # doctest: +SKIP
    >>> paths = build_path_table_spark(
    ...     spark, tables["touchpoints"], tables["opportunities"], tables["accounts"],
    ...     config=JourneyConfig(breakdowns=("abm_tier",)),
    ... ).toPandas()  # doctest: +SKIP
    """
    F, Window = _pyspark()
    config = JourneyConfig() if config is None else config
    if not isinstance(config, JourneyConfig):
        raise ConfigError(
            f"spark engine: config must be a JourneyConfig, got {type(config).__name__} "
            "(use JourneyConfig.from_dict for a mapping)"
        )
    for name, frame in (("touchpoints", touchpoints), ("opportunities", opportunities)):
        _check_frame(frame, name)
    if accounts is not None:
        _check_frame(accounts, "accounts")
    plan = path_table_plan(F, Window, touchpoints, opportunities, accounts, config)
    logger.debug("spark path table plan built for %s", config)
    return plan


def _check_frame(frame: Any, table: str) -> None:
    if not (hasattr(frame, "schema") and hasattr(frame, "columns") and hasattr(frame, "groupBy")):
        raise SchemaError(
            f"spark engine: {table} must be a pyspark DataFrame, got "
            f"{type(frame).__name__} (use spark.createDataFrame(pandas_frame), or "
            "features.journeys.build_journeys for pandas)"
        )


def read_tables_spark(
    spark: SparkSession,
    data_dir: str | Path,
    tables: Sequence[str] = REQUIRED_TABLES,
) -> dict[str, DataFrame]:
    """Read ``<table>.parquet`` (preferred) or ``<table>.csv`` with the contract's types.

    Each contract column is cast to its Spark type (ids and strings ->
    string, datetimes -> timestamp, floats -> double, booleans -> boolean);
    extra columns are carried along untouched. Nanosecond Parquet timestamps
    (what pandas writes) are read as int64 and converted to microsecond
    ``TIMESTAMP`` (floor); this switches the session option
    ``spark.sql.legacy.parquet.nanosAsLong`` on, since Spark 4 refuses them
    otherwise (logged; it affects only such files). CSV cells are parsed like the
    pandas loader's kinds (ISO 8601 timestamps, naive ones read as UTC;
    booleans true/false, 1/0, yes/no; empty cells -> null), but unparseable
    cells become null instead of being quarantined: **validation stays in
    pandas** (:mod:`features.validation`); validate a sample or the whole
    folder there first.

    Parameters
    ----------
    spark : SparkSession
        Its ``spark.sql.session.timeZone`` must be ``UTC`` to read CSV files
        (naive timestamps are read in the session time zone).
    data_dir : str or Path
        Folder holding the table files.
    tables : sequence of str, default ("accounts", "touchpoints", "opportunities")
        Tables to read.

    Returns
    -------
    dict of str to pyspark DataFrame

    Raises
    ------
    InputFileError
        No ``<table>.parquet`` or ``<table>.csv`` in ``data_dir``.
    SchemaError
        Unknown table, or a contract column missing from the file.
    ConfigError
        A CSV file with a session time zone other than UTC.
    """
    F, _ = _pyspark()
    folder = Path(data_dir)
    out: dict[str, Any] = {}
    for table in tables:
        if table not in CONTRACTS:
            raise SchemaError(
                f"spark engine: unknown table {table!r}: expected one of "
                f"{', '.join(CONTRACTS)}"
            )
        kinds = CONTRACTS[table].kinds
        parquet, csv = folder / f"{table}.parquet", folder / f"{table}.csv"
        nanos: set[str] = set()
        if parquet.exists():
            nanos = _nanosecond_columns(spark, parquet)
            frame = spark.read.parquet(str(parquet))
            source = parquet.name
        elif csv.is_file():
            tz = spark.conf.get("spark.sql.session.timeZone")
            if tz not in ("UTC", "Etc/UTC", "Z", "+00:00"):
                raise ConfigError(
                    f"spark engine: reading {csv.name} needs the session time zone UTC "
                    f"(got {tz!r}): naive timestamps are UTC by contract; set "
                    'spark.conf.set("spark.sql.session.timeZone", "UTC")'
                )
            frame = spark.read.option("header", True).option("inferSchema", False).csv(str(csv))
            source = csv.name
        else:
            raise InputFileError(
                f"spark engine: no {parquet.name} or {csv.name} in {folder}"
            )
        missing = [c for c in kinds if c not in frame.columns]
        if missing:
            raise SchemaError(
                f"spark engine: {source} has no column {', '.join(map(repr, missing))} "
                f"(columns: {', '.join(frame.columns)}); the {table} contract requires "
                f"{', '.join(kinds)}"
            )
        is_csv = source.endswith(".csv")
        cols = []
        for c in frame.columns:
            kind = kinds.get(c)
            if kind is None:
                cols.append(F.col(c))
            elif is_csv:
                cols.append(_parse_csv_column(F, c, kind).alias(c))
            elif c in nanos:  # int64 ns since the epoch -> us (floor), as TIMESTAMP
                us = F.expr(f"(`{c}` - pmod(`{c}`, 1000)) div 1000")
                cols.append(F.timestamp_micros(us).alias(c))
            else:
                cols.append(F.col(c).cast(_SPARK_TYPES[kind]).alias(c))
        out[table] = frame.select(*cols)
        logger.info("spark: reading %s", source)
    return out


def _nanosecond_columns(spark: Any, path: Path) -> set[str]:
    """Names of the ``timestamp[ns]`` columns of a Parquet file or folder.

    Spark 4 refuses nanosecond Parquet timestamps (``PARQUET_TYPE_ILLEGAL``),
    which is what pandas and :func:`features.synthetic.write_dataset` write.
    When there are some, the session option
    ``spark.sql.legacy.parquet.nanosAsLong`` is switched on (logged): Spark
    then reads them as int64 nanoseconds, converted back to ``TIMESTAMP`` by
    the caller. It changes nothing else (without it such files fail to load).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path) if path.is_file() else pq.ParquetDataset(path).schema
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputFileError(f"spark engine: cannot read {path.name}: {exc}") from exc
    nanos = {
        f.name
        for f in schema
        if pa.types.is_timestamp(f.type) and f.type.unit == "ns"
    }
    key = "spark.sql.legacy.parquet.nanosAsLong"
    if nanos and spark.conf.get(key, "false").lower() != "true":
        logger.info(
            "spark: %s has nanosecond timestamps (%s); setting %s=true for this session",
            path.name, ", ".join(sorted(nanos)), key,
        )
        spark.conf.set(key, "true")
    return nanos


def _parse_csv_column(F: Any, name: str, kind: str) -> Any:
    raw = F.trim(F.col(name)) if kind != "str" else F.col(name)
    raw = F.when(raw == "", F.lit(None)).otherwise(raw)
    if kind == "bool":
        low = F.lower(raw)
        return F.when(low.isin(*_TRUE), F.lit(True)).when(low.isin(*_FALSE), F.lit(False))
    if kind == "datetime":
        return F.try_to_timestamp(raw) if hasattr(F, "try_to_timestamp") else raw.cast("timestamp")
    return raw.cast(_SPARK_TYPES[kind])
