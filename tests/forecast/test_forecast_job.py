"""The forecast stage and command on the small made-up utility: a real MLflow store, the
champions registered per horizon and loadable as pyfunc models, the command's exact columns and
its one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from powerlens.config import Config
from powerlens.forecast.hourly import HOURLY_COLUMNS
from powerlens.forecast.monthly import MONTHLY_COLUMNS
from powerlens.jobs.common import configure_process

FAST = {"lightgbm": {"n_estimators": 60, "learning_rate": 0.15}, "calibration_weeks": 8, "backtest_origins": 2,
        "families": ["seasonal_naive", "vanilla", "lightgbm_global"]}


@pytest.mark.slow
def test_stage_backtests_registers_champions_and_writes_the_report_inputs(load_folder, mlflow_store, tmp_path):
    import mlflow

    from powerlens.jobs.forecast import BACKTEST_COLUMNS, run

    configure_process()
    cfg = Config().replace("forecast", **FAST)
    out = tmp_path / "forecast"
    summary = run(cfg, data=load_folder, out=out, echo=lambda m: None)
    backtest = pd.read_csv(out / "backtest.csv")
    assert list(backtest.columns) == BACKTEST_COLUMNS
    assert {"seasonal_naive", "vanilla", "lightgbm_global", "lightgbm_global+bottom_up"} <= set(backtest["variant"])
    numbers = backtest.set_index("variant")
    assert numbers.notna().all().all() and numbers["coverage_total"].between(0, 1).all()
    assert numbers.loc["lightgbm_global", "mape_total"] < 0.10  # quality is the GEFCom test's (test_gefcom2012.py)
    hourly = pd.read_csv(out / "hourly.csv")
    assert list(hourly.columns) == HOURLY_COLUMNS and hourly["origin"].nunique() == 2
    monthly = pd.read_csv(out / "monthly.csv")
    assert list(monthly.columns) == MONTHLY_COLUMNS and monthly["month"].nunique() == 12
    assert summary["hourly"]["promoted"] and summary["monthly"]["promoted"]  # the first ones are champions

    # the champions load as pyfunc models and forecast from a frame of load and temperature
    mlflow.set_tracking_uri(mlflow_store)
    model = mlflow.pyfunc.load_model("models:/powerlens-forecast-hourly@champion")
    load = pd.read_parquet(load_folder / "region_load.parquet")
    weather = pd.read_parquet(load_folder / "weather_daily.parquet")
    frame = load.assign(date=load["ts"].dt.normalize()).merge(weather, on=["date", "region"])
    frame = frame.rename(columns={"temperature_mean": "temperature_c"})[["region", "ts", "load_kw", "temperature_c"]]
    origin = hourly["origin"].max()
    got = model.predict(frame, params={"origin": origin, "weather": "scenario"})
    assert list(got.columns) == HOURLY_COLUMNS and got["forecast"].notna().all() and len(got) == 168 * 4

    # a second run on the same data does not promote a worse or equal forecaster by accident:
    # it compares on the same backtest (equal skill, threshold 0: promoted as it is not worse)
    again = run(cfg.replace("forecast", promotion_threshold=0.5), data=load_folder, out=out, echo=lambda m: None)
    assert not again["hourly"]["promoted"] and "challenger" in again["hourly"]["decision"]
    client = mlflow.MlflowClient()
    assert str(client.get_model_version_by_alias("powerlens-forecast-hourly", "champion").version) == "1"


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "powerlens.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.slow
def test_command_writes_the_documented_columns_and_refuses_in_one_line(load_folder, tmp_path):
    (tmp_path / "params.yaml").write_text(
        "forecast:\n  calibration_weeks: 8\n  lightgbm: {n_estimators: 60, learning_rate: 0.15}\n")
    out = tmp_path / "h.csv"
    done = _cli("forecast", "--data", str(load_folder), "--origin", "2024-05-06", "--origin", "2024-05-13",
                "--horizon-hours", "24", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out)
    assert list(frame.columns) == HOURLY_COLUMNS and len(frame) == 2 * 24 * 4
    assert frame["ts"].str.match(r"^\d{4}-\d{2}-\d{2} \d{2}:00$").all()
    done = _cli("forecast", "--data", str(load_folder), "--origin", "2024-05-01", "--horizon-months", "3",
                "--out", str(tmp_path / "m.csv"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert list(pd.read_csv(tmp_path / "m.csv").columns) == MONTHLY_COLUMNS
    for args, message in [
        (["--origin", "2030-01-01", "--horizon-hours", "24"], "beyond the data"),
        (["--origin", "2024-13-01", "--horizon-hours", "24"], "--origin"),
        (["--origin", "2024-05-06"], "one of --horizon-hours"),
        (["--origin", "2024-05-06", "--horizon-months", "3"], "first of a month"),
    ]:
        done = _cli("forecast", "--data", str(load_folder), *args, "--out", str(tmp_path / "x.csv"), cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, done.stderr)
    assert not (tmp_path / "x.csv").exists()
