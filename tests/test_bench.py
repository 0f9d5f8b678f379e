"""`powerlens bench features`: real engines on a tiny generated utility; the numbers are not
asserted against targets (that is what the benchmark reports), only that they are measured."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from powerlens.bench import bench_folder, generate_bench_data, run_engine
from powerlens.cli import app


def _last_line(result) -> dict[str, str]:
    """The benchmark's machine-readable last line, after a successful run."""
    assert result.exit_code == 0, result.output
    return dict(pair.split("=") for pair in result.output.strip().splitlines()[-1].split())


@pytest.mark.slow
def test_bench_features_prints_ratios_and_a_machine_readable_last_line(tmp_path):
    result = CliRunner().invoke(app, ["bench", "features", "--customers", "40", "--days", "60",
                                      "--tsfresh-sample", "10", "--data-dir", str(tmp_path)])
    values = _last_line(result)
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


@pytest.mark.slow
def test_bench_pipeline_times_each_stage_and_size_and_fits_the_growth(tmp_path):
    result = CliRunner().invoke(app, ["bench", "pipeline", "--customers", "300,150", "--months", "14",
                                      "--stages", "generate,validate", "--data-dir", str(tmp_path)])
    values = _last_line(result)
    assert list(values) == ["customers", "seconds", "peak_rss_mb", "growth_exponent"]
    assert values["customers"] == "300" and float(values["seconds"]) > 0 and float(values["peak_rss_mb"]) > 50
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["sizes"] == [150, 300] and [r["stage"] for r in saved["rows"]] == ["generate", "validate"] * 2
    assert "| generate |" in result.output and "| **total** |" in result.output
    # each size is its own project with its own data: the generator made the customers asked for
    for n in (150, 300):
        customers = pd.read_csv(tmp_path / str(n) / "data" / "raw" / "customers.csv")
        assert len(customers) == n + 1  # and the large new connection of the generator's growth event
        assert (tmp_path / str(n) / "data" / "clean" / "validation.json").exists()


def test_bench_pipeline_refuses_an_unknown_stage_in_one_line(tmp_path):
    result = CliRunner().invoke(app, ["bench", "pipeline", "--customers", "100", "--stages", "generat",
                                      "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "no stage generat in dvc.yaml" in result.output
    assert "Traceback" not in result.output
