"""The CLI: readable one-line errors with exit code 2, --help with an example."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from experiments.cli import app, main
from tests.features.test_validation import TOUCHPOINTS, write

COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example" in out and f"abm {command}" in out


def test_validate_reports_and_writes_quarantine(tmp_path, capsys):
    folder = write(tmp_path / "d", touchpoints=TOUCHPOINTS + "T3,A1,C1,2024-13-01,web,web_visit,,,0\n")
    code = main(["validate", str(folder), "--quarantine-dir", str(tmp_path / "q"), "--now", "2025-06-30"])
    out = capsys.readouterr().out
    assert code == 0
    assert "touchpoints.csv line 4: timestamp '2024-13-01' is not a date" in out
    assert (tmp_path / "q" / "quarantine.csv").exists()
    assert main(["validate", str(folder), "--strict", "--now", "2025-06-30"]) == 1


def test_table_level_error_is_one_line_and_exit_2(tmp_path, capsys):
    folder = write(tmp_path / "d", touchpoints=TOUCHPOINTS.replace(",channel,", ",chanel,"))
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: touchpoints.csv: required column 'channel' is missing; rename it in the file or map it with --mapping"


def test_console_script_exits_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "validate", str(tmp_path / "missing")],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: missing: data folder not found"


def test_bad_mapping_key_is_one_line(tmp_path, capsys):
    folder = write(tmp_path / "d")
    bad = tmp_path / "m.yaml"
    bad.write_text("tables:\n  touchpoints:\n    colums: {}\n")
    assert main(["validate", str(folder), "--mapping", str(bad)]) == 2
    assert "m.yaml: tables.touchpoints.colums: Extra inputs are not permitted" in capsys.readouterr().err


def test_attribute_from_a_path_file(tmp_path, capsys):
    paths = tmp_path / "paths.csv"
    paths.write_text(
        "path,total_conversions,total_null,total_conversion_value\n"
        "a > b > c,3,2,300\na>c,1,4,50\nb,2,1,20\nc > a,0,3,0\n"
    )
    out = tmp_path / "credit.csv"
    code = main(["attribute", "--paths", str(paths), "--models", "first_touch,linear,markov",
                 "--ci", "0.9", "--n-boot", "20", "--out", str(out)])
    assert code == 0
    import pandas as pd

    result = pd.read_csv(out)
    assert set(result["model"].str.replace(r"_order_\d", "", regex=True)) == {"first_touch", "linear", "markov"}
    for _, group in result.groupby("model"):
        assert abs(group["credit_conversions"].sum() - 6) < 1e-9
        assert abs(group["share"].sum() - 1) < 1e-9
    assert {"ci_low", "ci_high"} <= set(result.columns)


def test_attribute_refuses_unknown_model_in_one_line(tmp_path, capsys):
    paths = tmp_path / "paths.csv"
    paths.write_text("path,total_conversions,total_null,total_conversion_value\na,1,0,1\n")
    assert main(["attribute", "--paths", str(paths), "--models", "foo", "--out", str(tmp_path / "o.csv")]) == 2
    assert "unknown attribution model 'foo'; known models:" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_world(tmp_path_factory):
    from features.synthetic import generate_dataset, write_dataset

    folder = tmp_path_factory.mktemp("world")
    write_dataset(generate_dataset(150, seed=3), folder)
    return folder


def test_attribute_from_raw_data_by_role_with_stages(small_world, tmp_path):
    import pandas as pd

    out, stages = tmp_path / "role.csv", tmp_path / "stages.csv"
    code = main(["attribute", "--data", str(small_world), "--models", "linear,markov", "--by", "buying_role",
                 "--stages-out", str(stages), "--out", str(out)])
    assert code == 0
    result = pd.read_csv(out)
    assert {"model", "channel", "buying_role", "share"} <= set(result.columns)
    for _, group in result.groupby("model"):
        assert abs(group["share"].sum() - 1) < 1e-9
    assert {"from_stage", "to_stage", "channel"} <= set(pd.read_csv(stages).columns)


def test_attribute_compare_abm_writes_side_by_side(small_world, tmp_path):
    import pandas as pd

    out = tmp_path / "credit.csv"
    assert main(["attribute", "--data", str(small_world), "--models", "markov", "--compare-abm", "--by", "abm_tier",
                 "--out", str(out)]) == 0
    cmp = pd.read_csv(tmp_path / "credit_abm_vs_non_abm.csv")
    assert set(cmp["model"]) == {"markov_order_1"}
    assert abs(cmp["share_abm"].sum() - 1) < 1e-9 and abs(cmp["share_non_abm"].sum() - 1) < 1e-9


def test_by_role_needs_raw_data(tmp_path, capsys):
    paths = tmp_path / "paths.csv"
    paths.write_text("path,total_conversions,total_null,total_conversion_value\na,1,0,1\n")
    assert main(["attribute", "--paths", str(paths), "--by", "buying_role", "--out", str(tmp_path / "o.csv")]) == 2
    assert "--by buying_role and --stages-out need the touches" in capsys.readouterr().err


def test_engagement_command_writes_weights_and_backtest(tmp_path, capsys):
    import pandas as pd

    from features.synthetic import generate_dataset, write_dataset

    data = tmp_path / "data"
    write_dataset(generate_dataset(400, seed=5), data)
    out = tmp_path / "eng"
    assert main(["engagement", str(data), "--out", str(out), "--no-challenger", "--test-weeks", "8"]) == 0
    weights = pd.read_csv(out / "engagement_signal_weights.csv")
    assert {"signal", "points"} <= set(weights.columns) and weights["points"].max() == 100
    metrics = pd.read_csv(out / "backtest_metrics.csv").set_index("model")
    assert {"learned", "baseline", "oracle"} <= set(metrics.index)
    assert (metrics["auc"] > 0.5).all()
    scores = pd.read_csv(out / "account_scores.csv")
    assert scores["score"].between(0, 100).all() and len(scores) == 400
    roles = pd.read_csv(out / "role_multipliers.csv")
    assert list(roles.columns) == ["level", "multiplier", "ci_lower", "ci_upper", "std_err_log"]
    tiers = pd.read_csv(out / "tier_multipliers.csv")
    assert set(tiers["level"]) == {"one_to_one", "one_to_few", "one_to_many", "none"}


def test_engagement_schedule_keeps_training_labels_out_of_the_backtest():
    import pandas as pd

    from experiments.cli import engagement_schedule

    fit, test = engagement_schedule(pd.Timestamp("2025-12-31", tz="UTC"), pd.Timestamp("2024-01-01", tz="UTC"),
                                    horizon_days=90, test_weeks=13)
    assert len(test) == 13 and test[-1] + pd.Timedelta(days=90) <= pd.Timestamp("2025-12-31", tz="UTC")
    assert fit[-1] + pd.Timedelta(days=90) < test[0]


def test_clv_command_writes_holdout_metrics_and_abm_effects(tmp_path):
    import pandas as pd

    from features.synthetic import generate_dataset, write_dataset

    data = tmp_path / "data"
    write_dataset(generate_dataset(1000, seed=2), data)
    out = tmp_path / "clv"
    assert main(["clv", str(data), "--out", str(out), "--n-boot", "20"]) == 0
    metrics = pd.read_csv(out / "clv_holdout_metrics.csv")
    assert "XGBoost" in set(metrics["model"]) and metrics["top_decile_capture"].between(0, 1).all()
    effects = pd.read_csv(out / "abm_clv_effects.csv")
    assert {"naive", "adjusted"} <= set(effects["estimator"])


def test_clv_command_refuses_a_cutoff_that_is_not_a_date(tmp_path, capsys):
    from features.synthetic import generate_dataset, write_dataset

    data = tmp_path / "data"
    write_dataset(generate_dataset(200, seed=2), data)
    assert main(["clv", str(data), "--out", str(tmp_path / "clv"), "--cutoff", "garbage"]) == 2
    err = capsys.readouterr().err
    assert "--cutoff 'garbage' is not a date" in err and "Traceback" not in err


def test_journey_models_from_raw_data(small_world, tmp_path):
    import pandas as pd

    out = tmp_path / "j.csv"
    assert main(["attribute", "--data", str(small_world), "--models", "w_shaped,time_decay,linear",
                 "--use-journeys", "--out", str(out)]) == 0
    result = pd.read_csv(out)
    assert set(result["model"]) == {"w_shaped", "time_decay", "linear"}
    for _, group in result.groupby("model"):
        assert abs(group["share"].sum() - 1) < 1e-9


def test_journey_models_need_raw_data(tmp_path, capsys):
    paths = tmp_path / "paths.csv"
    paths.write_text("path,total_conversions,total_null,total_conversion_value\na,1,0,1\n")
    assert main(["attribute", "--paths", str(paths), "--models", "w_shaped", "--out", str(tmp_path / "o.csv")]) == 2
    assert "w_shaped on journeys needs the touches" in capsys.readouterr().err
