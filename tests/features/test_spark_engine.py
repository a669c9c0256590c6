"""Parity of the Spark path table with the pandas one (DESIGN.md, "Scale").

``build_path_table_spark(...).toPandas()`` must equal
``build_journeys(...).paths`` (columns, dtypes, rows, order) on the same
input: on generator data read back from Parquet and CSV for several configs,
and on hand-made edge cases of the definitions in ``features/journeys.py``
(ties, window bounds, simultaneous events, events after the observation end).
One local Spark session for the whole module (about 15 s to start).
"""

from __future__ import annotations

import builtins
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip(
        "Java is not installed (Spark needs a JVM, Java 17+ on PATH)", allow_module_level=True
    )

from features import _spark_paths  # noqa: E402
from features.errors import ConfigError, SchemaError  # noqa: E402
from features.journeys import JourneyConfig, build_journeys  # noqa: E402
from features.spark_engine import (  # noqa: E402
    SparkNotInstalledError,
    build_path_table_spark,
    read_tables_spark,
)
from features.synthetic import generate_dataset, write_dataset  # noqa: E402

# One Spark session per process: keep the module on one xdist worker when run
# with `--dist loadgroup`. pyspark 4.3 and pandas 3: silence warnings raised
# inside pyspark's pandas conversion.
pytestmark = [
    pytest.mark.xdist_group("spark"),
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:Warning"),
    pytest.mark.filterwarnings("ignore:Series.values returning an ndarray:Warning"),
]

BASE = pd.Timestamp("2024-01-01", tz="UTC")
DAY = pd.Timedelta(days=1)
SEC = pd.Timedelta(seconds=1)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("test_spark_engine")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(200, seed=11)


@pytest.fixture(scope="module")
def parquet_tables(spark, dataset, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parquet")
    write_dataset(dataset, folder, format="parquet")
    return read_tables_spark(spark, folder)


def _spark_paths_table(spark, tables, config):
    return build_path_table_spark(
        spark,
        tables["touchpoints"],
        tables["opportunities"],
        tables.get("accounts"),
        config=config,
    ).toPandas()


# --------------------------------------------------------------------------- generator data


def _channel_groups(dataset) -> dict[str, str]:
    channels = sorted(dataset.tables["touchpoints"]["channel"].unique())
    # Most channels grouped two by two; the last two are left unmapped ("keep").
    return {c: f"group_{i // 2}" for i, c in enumerate(channels[:-2])}


CONFIGS = {
    "default": {},
    "closed_won": {"conversion": "closed_won"},
    "lookback_90": {"lookback_days": 90},
    "collapse_max_length": {"collapse_repeats": True, "max_path_length": 4},
    "no_lookback_end": {"lookback_days": None, "observation_end": "2024-09-30"},
    "fractional_lookback_naive_end": {
        "lookback_days": 30.5,
        "observation_end": "2024-06-30T12:00:00",
    },
    "breakdowns": {"breakdowns": ("abm_tier", "segment"), "collapse_repeats": True},
}


@pytest.mark.parametrize("name", [*CONFIGS, "channel_groups"])
def test_parity_on_generator_data_from_parquet(spark, dataset, parquet_tables, name):
    params = dict(CONFIGS.get(name, {}))
    if name == "channel_groups":
        params = {"channel_groups": _channel_groups(dataset), "max_path_length": 6}
    config = JourneyConfig(**params)
    expected = build_journeys(dataset, config=config).paths
    got = _spark_paths_table(spark, parquet_tables, config)
    assert len(expected) > 50  # a real table, not a degenerate one
    pd.testing.assert_frame_equal(got, expected)


def test_parity_on_generator_data_from_csv(spark, dataset, tmp_path):
    write_dataset(dataset, tmp_path, format="csv")
    tables = read_tables_spark(spark, tmp_path)
    assert dict(tables["opportunities"].dtypes)["is_won"] == "boolean"
    config = JourneyConfig(conversion="closed_won", breakdowns=("region",))
    expected = build_journeys(dataset, config=config).paths
    pd.testing.assert_frame_equal(_spark_paths_table(spark, tables, config), expected)


# --------------------------------------------------------------------------- edge cases


def _touchpoints(rows: list[tuple]) -> pd.DataFrame:
    """rows: (touchpoint_id, account_id, timestamp, channel)."""
    return pd.DataFrame(
        {
            "touchpoint_id": pd.array([r[0] for r in rows], dtype="str"),
            "account_id": pd.array([r[1] for r in rows], dtype="str"),
            "timestamp": pd.DatetimeIndex([r[2] for r in rows]).as_unit("ns"),
            "channel": pd.array([r[3] for r in rows], dtype="str"),
        }
    )


def _opportunities(rows: list[tuple]) -> pd.DataFrame:
    """rows: (opportunity_id, account_id, created_at, amount[, is_won, closed_at])."""
    closed = [r[5] if len(r) > 5 else pd.NaT for r in rows]
    return pd.DataFrame(
        {
            "opportunity_id": pd.array([r[0] for r in rows], dtype="str"),
            "account_id": pd.array([r[1] for r in rows], dtype="str"),
            "created_at": pd.DatetimeIndex([r[2] for r in rows]).as_unit("ns"),
            "closed_at": pd.DatetimeIndex(closed, tz="UTC").as_unit("ns"),
            "is_won": np.array([bool(r[4]) if len(r) > 4 else False for r in rows]),
            "amount": np.array([r[3] for r in rows], dtype=np.float64),
        }
    )


def _parity(spark, tp, opp, config, accounts=None) -> pd.DataFrame:
    """Both engines on the same frames; returns the (equal) path table."""
    expected = build_journeys(tp, opp, accounts, config=config).paths
    got = build_path_table_spark(
        spark,
        spark.createDataFrame(tp),
        spark.createDataFrame(opp),
        None if accounts is None else spark.createDataFrame(accounts),
        config=config,
    ).toPandas()
    pd.testing.assert_frame_equal(got, expected)
    return got


def _as_dict(paths: pd.DataFrame, keys: tuple[str, ...] = ()) -> dict:
    return {
        tuple(r[k] for k in keys) + (r["path"],): (
            int(r["total_conversions"]),
            int(r["total_null"]),
            float(r["total_conversion_value"]),
        )
        for _, r in paths.iterrows()
    }


def test_ties_broken_by_touchpoint_id_not_row_order(spark):
    t = BASE + 3 * DAY
    # Same instant, rows out of order; lexicographic ids: t1 < t10 < t2.
    tp = _touchpoints(
        [("t2", "A", t, "b"), ("t10", "A", t, "c"), ("t1", "A", t, "a"),
         ("u2", "B", t, "x"), ("u1", "B", t, "y")]
    )
    opp = _opportunities([("O1", "A", BASE + 5 * DAY, 100.0)])
    got = _parity(spark, tp, opp, JourneyConfig())
    assert _as_dict(got) == {("a > c > b",): (1, 0, 100.0), ("y > x",): (0, 1, 0.0)}


def test_window_bounds_are_inclusive_at_event_time_and_lookback(spark):
    T = BASE + 40 * DAY
    tp = _touchpoints(
        [
            ("a0", "A", T - 10 * DAY - SEC, "too_old"),  # 1 s before the lookback
            ("a1", "A", T - 10 * DAY, "at_lookback"),  # exactly T - L: included
            ("a2", "A", T, "at_event"),  # exactly T: belongs to the event
            ("a3", "A", T + SEC, "after"),  # after: non-converting tail
        ]
    )
    opp = _opportunities([("O1", "A", T, 5.0)])
    got = _parity(spark, tp, opp, JourneyConfig(lookback_days=10))
    assert _as_dict(got) == {
        ("after",): (0, 1, 0.0),
        ("at_lookback > at_event",): (1, 0, 5.0),
    }


def test_two_events_at_the_same_instant_first_by_opportunity_id_takes_touches(spark):
    T = BASE + 10 * DAY
    tp = _touchpoints([("t1", "A", T - DAY, "email"), ("t2", "A", T, "web")])
    # O2 listed first; O1 < O2 takes the touches, O2 has an empty window.
    opp = _opportunities([("O2", "A", T, 7.0), ("O1", "A", T, 3.0), ("O3", "A", T + DAY, 1.0)])
    got = _parity(spark, tp, opp, JourneyConfig())
    assert _as_dict(got) == {("email > web",): (1, 0, 3.0)}


def test_accounts_without_events_and_events_without_touches(spark):
    tp = _touchpoints(
        [("t1", "A", BASE + DAY, "email"), ("t2", "A", BASE + 2 * DAY, "email"),
         ("t3", "B", BASE + DAY, "web")]
    )
    # C has an event but no touch (a direct conversion: not a path); the NaN
    # amount of O2 counts 0.
    opp = _opportunities([("O1", "C", BASE + DAY, 9.0), ("O2", "A", BASE + 3 * DAY, np.nan)])
    got = _parity(spark, tp, opp, JourneyConfig(collapse_repeats=True))
    assert _as_dict(got) == {("email",): (1, 0, 0.0), ("web",): (0, 1, 0.0)}


def test_events_and_touches_after_observation_end(spark):
    end = BASE + 20 * DAY
    tp = _touchpoints(
        [
            ("t1", "A", end - DAY, "email"),
            ("t2", "A", end, "web"),  # exactly at the end: included
            ("t3", "A", end + SEC, "late"),  # after the end: outside every window
            ("t4", "B", end - 2 * DAY, "ads"),
        ]
    )
    # O1 happens after the end: not an event yet, its touches are non-converting.
    opp = _opportunities([("O1", "A", end + DAY, 50.0), ("O2", "B", end - DAY, 8.0)])
    got = _parity(spark, tp, opp, JourneyConfig(observation_end=end, lookback_days=1.5))
    assert _as_dict(got) == {("ads",): (1, 0, 8.0), ("email > web",): (0, 1, 0.0)}


def test_closed_won_lost_opportunities_pass_their_touches_on(spark):
    tp = _touchpoints(
        [("t1", "A", BASE + DAY, "a"), ("t2", "A", BASE + 5 * DAY, "b"),
         ("t3", "A", BASE + 9 * DAY, "c")]
    )
    opp = _opportunities(
        [
            ("O1", "A", BASE, 1.0, False, BASE + 3 * DAY),  # lost: not an event
            ("O2", "A", BASE, 2.0, True, BASE + 6 * DAY),  # won at day 6
            ("O3", "A", BASE, 4.0, True),  # won without closed_at: not an event
        ]
    )
    got = _parity(spark, tp, opp, JourneyConfig(conversion="closed_won"))
    assert _as_dict(got) == {("a > b",): (1, 0, 2.0), ("c",): (0, 1, 0.0)}


def test_grouping_collapse_and_max_length_keep_the_last_touches(spark):
    tp = _touchpoints(
        [(f"t{i}", "A", BASE + i * DAY, ch)
         for i, ch in enumerate(["fb", "li", "email", "email", "web", "fb", "email"], start=1)]
    )
    opp = _opportunities([("O1", "A", BASE + 30 * DAY, 1.0)])
    config = JourneyConfig(
        channel_groups={"fb": "social", "li": "social", "email": "email"},
        collapse_repeats=True,
        max_path_length=3,
    )
    got = _parity(spark, tp, opp, config)
    # social social email email web social email -> social email web social email
    assert _as_dict(got) == {("web > social > email",): (1, 0, 1.0)}


def test_breakdowns_with_an_account_missing_from_accounts(spark):
    tp = _touchpoints(
        [("t1", "A", BASE + DAY, "email"), ("t2", "B", BASE + DAY, "email"),
         ("t3", "Z", BASE + DAY, "web")]
    )
    opp = _opportunities([("O1", "A", BASE + 2 * DAY, 10.0)])
    accounts = pd.DataFrame(
        {
            "account_id": pd.array(["A", "B"], dtype="str"),
            "abm_tier": pd.array(["one_to_one", "one_to_many"], dtype="str"),
        }
    )
    got = _parity(spark, tp, opp, JourneyConfig(breakdowns=("abm_tier",)), accounts)
    assert got["abm_tier"].isna().tolist() == [False, False, True]  # Z: null, sorted last


# --------------------------------------------------------------------------- errors


def test_unmapped_channels_error_is_refused(spark):
    tp = _touchpoints([("t1", "A", BASE, "email"), ("t2", "A", BASE, "web")])
    opp = _opportunities([("O1", "A", BASE + DAY, 1.0)])
    config = JourneyConfig(channel_groups={"email": "owned"}, unmapped_channels="error")
    with pytest.raises(ConfigError, match="'web' are not in channel_groups"):
        build_path_table_spark(
            spark, spark.createDataFrame(tp), spark.createDataFrame(opp), config=config
        )


def test_missing_column_and_missing_accounts_are_refused(spark):
    tp = _touchpoints([("t1", "A", BASE, "email")])
    opp = _opportunities([("O1", "A", BASE + DAY, 1.0)])
    stp, sopp = spark.createDataFrame(tp), spark.createDataFrame(opp)
    with pytest.raises(SchemaError, match="touchpoints has no column 'channel'"):
        build_path_table_spark(spark, stp.drop("channel"), sopp)
    with pytest.raises(SchemaError, match="need the accounts table"):
        build_path_table_spark(spark, stp, sopp, config=JourneyConfig(breakdowns=("segment",)))
    with pytest.raises(SchemaError, match="must be a pyspark DataFrame"):
        build_path_table_spark(spark, tp, sopp)


def test_an_unsupported_option_is_named(monkeypatch, spark):
    tp = _touchpoints([("t1", "A", BASE, "email")])
    opp = _opportunities([("O1", "A", BASE + DAY, 1.0)])
    supported = tuple(o for o in _spark_paths.SUPPORTED_OPTIONS if o != "max_path_length")
    monkeypatch.setattr(_spark_paths, "SUPPORTED_OPTIONS", supported)
    with pytest.raises(ConfigError, match="max_path_length are not supported"):
        build_path_table_spark(
            spark,
            spark.createDataFrame(tp),
            spark.createDataFrame(opp),
            config=JourneyConfig(max_path_length=2),
        )


def test_missing_pyspark_gives_an_install_hint(monkeypatch):
    real_import = builtins.__import__

    def no_pyspark(name, *args, **kwargs):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    with pytest.raises(SparkNotInstalledError, match=r'pip install -e "\.\[spark\]"'):
        build_path_table_spark(None, None, None)
    assert "features.spark_engine" in sys.modules  # the module itself imported fine


def test_read_tables_spark_refuses_a_missing_file(spark, tmp_path):
    from features.errors import InputFileError

    with pytest.raises(InputFileError, match="no touchpoints.parquet or touchpoints.csv"):
        read_tables_spark(spark, tmp_path, tables=("touchpoints",))
