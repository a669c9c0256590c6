"""Spark DataFrame plan of the path table (private; see :mod:`features.spark_engine`).

The plan builder takes the ``pyspark.sql.functions`` module and the
``Window`` class as arguments (imported lazily by the public module), so this
module imports without pyspark.

Plan
----
1. **Events.** Opportunities that are conversion events (``created_at``, or
   ``is_won`` and ``closed_at``), with ``value`` = ``amount`` (null, NaN and
   inf count 0), dropped when later than the observation end ``end``.
2. **One window over touches and events.** Touches and events of an account
   are unioned and ordered by ``(time desc, kind desc, opportunity_id desc)``
   (an event sorts before a touch at the same instant); the running
   ``last(event, ignorenulls)`` over ``rows unbounded preceding .. current``
   then gives every touch the *first* event (by time, then opportunity_id)
   at or after it: exactly the event whose window ``(T_prev, T]`` holds the
   touch. A growing frame, so linear per account (a frame towards "unbounded
   following" would be quadratic in Spark).
3. **Windows.** A touch with an event is kept if ``t >= T - L``; a touch
   without one is kept if ``end - L <= t <= end``. Times are compared as
   integer microseconds (``unix_micros``), Spark's timestamp resolution; the
   nanosecond bounds of the config are rounded inward exactly (``floor`` for
   upper bounds, ``ceil`` for lower bounds).
4. **Journeys.** ``groupBy(account_id, opportunity_id)`` (null for the
   non-converting journey) collects ``struct(t, touchpoint_id, channel)``;
   ``array_sort`` orders by time, then touchpoint_id (the contract's
   tie-break). Collapse is a ``filter`` with the element index, the maximum
   length a ``slice`` of the tail, and the path an ``array_join`` with
   ``" > "``. The group-by keys contain the window's partition key, so Spark
   reuses its partitioning (no second shuffle of the touches).
5. **Path table.** Journeys are joined to the breakdown columns of
   ``accounts`` (left join: unknown accounts get nulls) and summed per
   (breakdowns, path), then sorted by breakdowns (nulls last) and path.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from features.errors import ConfigError, SchemaError
from features.journeys import PATH_SEPARATOR, JourneyConfig

__all__ = ["path_table_plan", "SUPPORTED_OPTIONS"]

_NS_PER_DAY = 86_400 * 10**9

#: JourneyConfig fields this engine implements. A field added to JourneyConfig
#: later is refused by name (ConfigError) until the Spark plan implements it.
SUPPORTED_OPTIONS: tuple[str, ...] = (
    "conversion",
    "lookback_days",
    "observation_end",
    "channel_groups",
    "unmapped_channels",
    "collapse_repeats",
    "max_path_length",
    "breakdowns",
)


def check_supported(config: JourneyConfig) -> None:
    """Refuse a JourneyConfig option the Spark engine does not implement."""
    defaults = JourneyConfig()
    unsupported = [
        f.name
        for f in fields(JourneyConfig)
        if f.name not in SUPPORTED_OPTIONS
        and getattr(config, f.name) != getattr(defaults, f.name)
    ]
    if unsupported:
        raise ConfigError(
            f"spark engine: JourneyConfig option(s) {', '.join(unsupported)} are not "
            "supported by build_path_table_spark yet; use features.journeys."
            "build_journeys (pandas) or leave them at their defaults"
        )


def _columns(frame: Any, table: str, required: list[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"spark engine: {table} has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(frame.columns)}); rename the columns or read the "
            "tables with features.spark_engine.read_tables_spark"
        )


def _timestamp(frame: Any, table: str, column: str) -> None:
    type_name = frame.schema[column].dataType.typeName()
    if type_name != "timestamp":
        hint = (
            "a naive timestamp (TIMESTAMP_NTZ); the contract is UTC: convert with "
            "to_utc_timestamp or cast to TIMESTAMP with the session time zone UTC"
            if type_name == "timestamp_ntz"
            else f"type {type_name}; cast it to TIMESTAMP (UTC)"
        )
        raise SchemaError(f"spark engine: {table}.{column} is {hint}")


def _unmapped_check(F: Any, touchpoints: Any, config: JourneyConfig) -> None:
    """``unmapped_channels="error"``: one small action over distinct channels."""
    groups = dict(config.channel_groups or {})
    rows = (
        touchpoints.select("channel")
        .where(F.col("channel").isNotNull() & ~F.col("channel").isin(list(groups)))
        .distinct()
        .orderBy("channel")
        .limit(50)
        .collect()
    )
    unmapped = [r["channel"] for r in rows]
    if unmapped:
        raise ConfigError(
            f"journeys: channel(s) {', '.join(map(repr, unmapped))} are not in "
            "channel_groups; add them to the mapping, or set "
            "unmapped_channels='keep' to keep them under their own name"
        )


def path_table_plan(
    F: Any,
    Window: Any,
    touchpoints: Any,
    opportunities: Any,
    accounts: Any | None,
    config: JourneyConfig,
) -> Any:
    """The lazy Spark DataFrame of the path table (module docstring, "Plan")."""
    check_supported(config)
    _columns(touchpoints, "touchpoints", ["touchpoint_id", "account_id", "timestamp", "channel"])
    _timestamp(touchpoints, "touchpoints", "timestamp")
    conv_col = "created_at" if config.conversion == "opportunity_created" else "closed_at"
    opp_cols = ["opportunity_id", "account_id", "amount", conv_col]
    if config.conversion == "closed_won":
        opp_cols.append("is_won")
    _columns(opportunities, "opportunities", opp_cols)
    _timestamp(opportunities, "opportunities", conv_col)
    breakdowns = list(config.breakdowns)
    if breakdowns:
        if accounts is None:
            raise SchemaError(
                f"spark engine: breakdowns {', '.join(breakdowns)} need the accounts "
                "table; pass accounts=..."
            )
        _columns(accounts, "accounts", ["account_id", *breakdowns])
    if config.channel_groups is not None and config.unmapped_channels == "error":
        _unmapped_check(F, touchpoints, config)

    # The lookback in ns exactly as the pandas engine rounds it; touch and event
    # times are whole microseconds, so t_ns >= T_ns - L_ns <=> t_us >= T_us - L_ns // 1000.
    lookback_ns = (
        None if config.lookback_days is None else int(round(config.lookback_days * _NS_PER_DAY))
    )
    lookback_us = None if lookback_ns is None else lookback_ns // 1000

    # Touches: account, time (int64 us), tie-break id, grouped channel.
    channel = F.col("channel")
    if config.channel_groups:
        mapping = F.create_map(
            *[F.lit(x) for kv in sorted(config.channel_groups.items()) for x in kv]
        )
        channel = F.coalesce(mapping[channel], channel)
    touches = touchpoints.select(
        F.col("account_id"),
        F.unix_micros(F.col("timestamp")).alias("t"),
        F.col("touchpoint_id"),
        channel.alias("channel"),
    )

    # Events.
    opp = opportunities
    if config.conversion == "closed_won":
        opp = opp.where(F.coalesce(F.col("is_won"), F.lit(False)) & F.col("closed_at").isNotNull())
    else:
        opp = opp.where(F.col("created_at").isNotNull())
    amount = F.col("amount").cast("double")
    finite = amount.isNotNull() & ~F.isnan(amount) & (F.abs(amount) != F.lit(float("inf")))
    events = opp.select(
        F.col("account_id"),
        F.unix_micros(F.col(conv_col)).alias("t"),
        F.col("opportunity_id").alias("ev_key"),
        F.when(finite, amount).otherwise(F.lit(0.0)).alias("value"),
    )

    # Observation end: [end_lo, end_hi] in us (end_lo only with a lookback).
    if config.observation_end is not None:
        end_ns = int(config.observation_end.value)
        end_hi = F.lit(end_ns // 1000)
        # t_us * 1000 >= end_ns - L_ns  <=>  t_us >= ceil((end_ns - L_ns) / 1000)
        end_lo = None if lookback_ns is None else F.lit(-((lookback_ns - end_ns) // 1000))
        events = events.where(F.col("t") <= end_hi)
        bounds = None
    else:
        last_touch = touches.agg(F.max("t").alias("m"))
        last_event = events.agg(F.max("t").alias("m"))
        bounds = (
            last_touch.crossJoin(last_event.withColumnRenamed("m", "m2"))
            .select(F.greatest(F.col("m"), F.col("m2")).alias("end_hi"))
        )
        end_hi = F.col("end_hi")
        end_lo = None if lookback_us is None else F.col("end_hi") - F.lit(lookback_us)

    ev_type = "struct<ev_t:bigint,ev_key:string,value:double>"
    stream = touches.select(
        "account_id",
        "t",
        F.lit(0).alias("kind"),
        "touchpoint_id",
        "channel",
        F.lit(None).cast("string").alias("ev_key"),
        F.lit(None).cast(ev_type).alias("ev"),
    ).unionByName(
        events.select(
            "account_id",
            "t",
            F.lit(1).alias("kind"),
            F.lit(None).cast(touches.schema["touchpoint_id"].dataType).alias("touchpoint_id"),
            F.lit(None).cast("string").alias("channel"),
            F.col("ev_key").cast("string").alias("ev_key"),
            F.struct(
                F.col("t").alias("ev_t"),
                F.col("ev_key").cast("string").alias("ev_key"),
                F.col("value"),
            ).alias("ev"),
        )
    )
    window = (
        Window.partitionBy("account_id")
        .orderBy(F.col("t").desc(), F.col("kind").desc(), F.col("ev_key").desc())
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    assigned = (
        stream.withColumn("next_ev", F.last("ev", ignorenulls=True).over(window))
        .where(F.col("kind") == 0)
        .drop("ev", "ev_key", "kind")
    )
    if bounds is not None:
        assigned = assigned.crossJoin(F.broadcast(bounds))
    has_event = F.col("next_ev").isNotNull()
    keep_conv = has_event
    if lookback_us is not None:
        keep_conv = keep_conv & (F.col("t") >= F.col("next_ev.ev_t") - F.lit(lookback_us))
    keep_open = ~has_event & (F.col("t") <= end_hi)
    if end_lo is not None:
        keep_open = keep_open & (F.col("t") >= end_lo)
    in_window = assigned.where(keep_conv | keep_open)

    journeys = in_window.groupBy(
        "account_id", F.col("next_ev.ev_key").alias("opportunity_id")
    ).agg(
        F.array_sort(F.collect_list(F.struct("t", "touchpoint_id", "channel"))).alias("seq"),
        F.max(F.coalesce(F.col("next_ev.value"), F.lit(0.0))).alias("value"),
    )
    channels = F.transform(F.col("seq"), lambda x: x["channel"])
    if config.collapse_repeats:
        journeys = journeys.withColumn("ch", channels)
        channels = F.filter(
            F.col("ch"), lambda x, i: (i == 0) | (x != F.get(F.col("ch"), i - 1))
        )
    if config.max_path_length is not None:
        n = config.max_path_length
        journeys = journeys.withColumn("ch2", channels)
        size = F.size(F.col("ch2"))
        channels = F.when(size > n, F.slice(F.col("ch2"), size - F.lit(n - 1), F.lit(n))).otherwise(
            F.col("ch2")
        )
    journeys = journeys.select(
        "account_id",
        F.array_join(channels, PATH_SEPARATOR).alias("path"),
        F.col("opportunity_id").isNotNull().cast("long").alias("converted"),
        F.col("value"),
    )

    if breakdowns:
        acc = accounts.select("account_id", *breakdowns)
        journeys = journeys.join(acc, on="account_id", how="left")
    table = journeys.groupBy(*breakdowns, "path").agg(
        F.sum("converted").cast("long").alias("total_conversions"),
        F.sum(F.lit(1) - F.col("converted")).cast("long").alias("total_null"),
        F.sum("value").cast("double").alias("total_conversion_value"),
    )
    order = [F.col(b).asc_nulls_last() for b in breakdowns] + [F.col("path").asc()]
    return table.select(
        *breakdowns, "path", "total_conversions", "total_null", "total_conversion_value"
    ).orderBy(*order)
