"""`powerlens bench features`: real engines on a tiny generated utility; the numbers are not
asserted against targets (that is what the benchmark reports), only that they are measured."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from powerlens.bench import bench_folder, generate_bench_data, run_engine
from powerlens.cli import app


@pytest.mark.slow
def test_bench_features_prints_ratios_and_a_machine_readable_last_line(tmp_path):
    result = CliRunner().invoke(app, ["bench", "features", "--customers", "40", "--days", "60",
                                      "--tsfresh-sample", "10", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    values = dict(pair.split("=") for pair in last.split())
    assert list(values) == ["readings_per_s", "ratio_vs_scan", "speedup_vs_tsfresh", "peak_rss_mb"]
    assert all(float(v) > 0 for v in values.values())
    assert "DuckDB scan floor" in result.output and "tsfresh" in result.output
    folder = bench_folder(tmp_path, 40, 60, "hourly")
    assert json.loads((folder / "bench.json").read_text())["readings"] == 40 * 60 * 24


def test_bench_data_is_canonical_and_every_daily_indicator_is_filled(tmp_path):
    folder = bench_folder(tmp_path, 30, 400, "daily")
    assert generate_bench_data(folder, 30, 400, "daily") == 30 * 400
    readings = pd.read_parquet(folder / "readings_daily.parquet")
    assert readings["customer_id"].astype(str).is_monotonic_increasing  # sorted, so partitions read ranges
    out = run_engine(folder, customers_per_partition=7)
    assert out["rows"] == 30 and out["peak_rss_mb"] > 0
    assert out["filled"] > 0.3  # daily indicators present, interval ones absent


def test_bench_rejects_an_unknown_interval(tmp_path):
    result = CliRunner().invoke(app, ["bench", "features", "--interval", "weekly", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "interval must be hourly or daily" in result.output
