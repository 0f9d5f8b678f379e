"""Shared fixtures: a small synthetic utility (real generator, real import), a throwaway
pseudonym key and a throwaway MLflow store per test session, the segment params, a small
export to break by hand. Plain helpers are in support.py (`from support import ...`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

SMALL = {"customers": 600, "months": 24, "seed": 11}


@pytest.fixture(scope="session")
def key_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "pseudonym.key"
    path.write_text("ab" * 32 + "\n")
    path.chmod(0o600)  # a group- or world-readable key is refused
    os.environ["POWERLENS_KEY_FILE"] = str(path)
    return path


@pytest.fixture(scope="session")
def key(key_file) -> bytes:
    return key_file.read_text().strip().encode()


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory) -> Path:
    from powerlens.synthetic import SyntheticConfig, generate

    out = tmp_path_factory.mktemp("raw")
    generate(SyntheticConfig(**SMALL), out)
    return out


@pytest.fixture(scope="session")
def small_clean(small_raw, key, tmp_path_factory) -> Path:
    from powerlens.importers.utility_export import import_utility_export

    out = tmp_path_factory.mktemp("clean")
    import_utility_export(small_raw, out, key, truth_out=out.parent / "truth.parquet")
    return out


@pytest.fixture(scope="session")
def small_truth(small_clean) -> Path:
    return small_clean.parent / "truth.parquet"


@pytest.fixture(scope="session")
def small_data(small_clean):
    from powerlens.features import load_clean

    return load_clean(small_clean)


@pytest.fixture()
def mlflow_store(tmp_path, monkeypatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("POWERLENS_ROOT", str(tmp_path))
    return uri


@pytest.fixture(scope="module")
def seg_params() -> dict:
    """params.yaml's segment section (the segmentation tests and the segment stage's)."""
    from powerlens.config import project_root

    return yaml.safe_load((project_root() / "params.yaml").read_text())["segment"]


@pytest.fixture()
def tiny_export(small_raw, tmp_path):
    """A copy of a small export whose daily readings are CSV we can break by hand."""
    src = tmp_path / "raw"
    shutil.copytree(small_raw, src)
    daily = pd.read_parquet(src / "readings_daily.parquet")
    (src / "readings_daily.parquet").unlink()
    (src / "readings_hourly.parquet").unlink()
    (src / "region_load.csv").unlink()  # the system side is not what these tests break
    meters = daily["meter_no"].astype(str).unique()[:3]
    daily = daily[daily["meter_no"].astype(str).isin(meters)].head(60).copy()
    daily["meter_no"] = daily["meter_no"].astype(str)
    daily["reading_date"] = daily["reading_date"].dt.strftime("%Y-%m-%d")
    daily["kwh"] = daily["kwh"].astype(str)
    return src, daily


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """`make test` runs with `--dist loadgroup`: the tests of a file stay on one worker (as with
    loadfile: its module fixtures are built once), and every test of the shared 500-customer
    pipeline (`pipeline_run`, a session fixture: one `dvc repro` per worker that uses it) runs
    on the same worker, so the pipeline is built once per run, not once per worker."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            shared = "pipeline_run" in getattr(item, "fixturenames", ())
            item.add_marker(pytest.mark.xdist_group(name="pipeline_run" if shared else item.nodeid.split("::")[0]))

