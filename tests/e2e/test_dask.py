"""The pipeline on Dask (issue 18): a copy of the shared pipeline project (`pipeline_run`) with
`features.engine` and `segment.engine` set to `dask` (and partitions of 200 customers), and
`dvc repro` again. The partitioned
stages run as tasks on a LocalCluster of two worker processes; the features, segments, scores
and the snapshot's actions are those of the local engine, and the stages downstream of the
features (training) do not even run again: DVC finds the features' hash unchanged.

~60-90 s on 2 cores (two LocalClusters start), plus `pipeline_run`.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from support import PERIOD, run

pytestmark = pytest.mark.slow

# what a run writes about itself: the seconds, and fingerprints of the inputs' files (their
# modification times) and settings (the engine is one)
RUN_DETAILS = {"seconds", "data_fingerprint", "inputs"}


def _without_run_details(value):
    if isinstance(value, dict):
        return {k: _without_run_details(v) for k, v in value.items() if k not in RUN_DETAILS}
    if isinstance(value, list):
        return [_without_run_details(v) for v in value]
    return value


def _same_tables(mine: Path, reference: Path) -> int:
    """Every parquet and JSON file under `reference` has its twin under `mine`, equal as data."""
    files = sorted(p.relative_to(reference) for p in reference.rglob("*") if p.suffix in (".parquet", ".json"))
    assert files == sorted(p.relative_to(mine) for p in mine.rglob("*") if p.suffix in (".parquet", ".json"))
    for name in files:
        if name.suffix == ".parquet":
            pd.testing.assert_frame_equal(pd.read_parquet(mine / name), pd.read_parquet(reference / name),
                                          obj=str(name))
        else:
            assert (_without_run_details(json.loads((mine / name).read_text()))
                    == _without_run_details(json.loads((reference / name).read_text()))), name
    return len(files)


def test_the_pipeline_on_a_two_worker_local_cluster_gives_the_local_engines_outputs(pipeline_run, tmp_path):
    project, env, _ = pipeline_run
    copy = tmp_path / "project"
    shutil.copytree(project, copy, symlinks=True)
    env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{copy / 'mlflow.db'}", "POWERLENS_ROOT": str(copy)}
    params = yaml.safe_load((copy / "params.yaml").read_text())
    params["features"]["engine"] = "dask"
    params["segment"]["engine"] = "dask"
    # several partitions, so both workers get some (the outputs do not depend on the sizes either)
    params["features"]["customers_per_partition"] = 200
    params["segment"]["clustering"]["customers_per_partition"] = 200
    (copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    repro = run([sys.executable, "-m", "dvc", "repro"], copy, env)
    out = repro.stdout + repro.stderr
    for stage in ("features", "segment", f"snapshot@{PERIOD}"):
        assert f"Running stage '{stage}'" in out, stage
    assert out.count("started a local Dask cluster with 2 worker(s)") >= 2  # features, segment
    assert "(on Dask)" in out
    # the features' hash is unchanged, so nothing that depends only on them runs again
    for stage in ("train@churn", "train@arrears", "train@theft", "score"):
        assert f"Running stage '{stage}'" not in out, stage

    for folder in ("data/features", "data/segments", "data/scores", f"data/snapshots/{PERIOD}"):
        assert _same_tables(copy / folder, project / folder) > 0, folder
    actions = pd.read_parquet(copy / f"data/snapshots/{PERIOD}/actions.parquet")
    assert len(actions) > 0
    status = json.loads(run([sys.executable, "-m", "dvc", "status", "--json"], copy, env).stdout or "{}")
    assert status == {}
