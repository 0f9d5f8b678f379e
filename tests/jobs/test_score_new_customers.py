"""New customers, whose outcome nobody knows yet, are what a model scores: a folder imported from
a source without its label column is dated by the source (or --as-of) and scored with the
champion; features built from another folder are refused instead of trained on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from powerlens.errors import InvalidInput
from powerlens.importers import import_source
from support import ROOT


def powerco_like(n: int, seed: int, with_churn: bool) -> pd.DataFrame:
    """A file in the PowerCo SME layout whose churn follows consumption and margin."""
    rng = np.random.default_rng(seed)
    cons = rng.lognormal(9, 1.2, n).round()
    margin = rng.normal(20, 8, n).round(2)
    frame = pd.DataFrame({
        "id": [f"pc{seed}-{i:05d}" for i in range(n)],
        "date_activ": pd.to_datetime("2005-01-01") + pd.to_timedelta(rng.integers(0, 3600, n), unit="D"),
        "date_end": pd.to_datetime("2016-02-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        "cons_12m": cons, "net_margin": margin, "pow_max": rng.uniform(10, 40, n).round(2),
        "num_years_antig": rng.integers(1, 12, n),
    })
    if with_churn:
        logit = -2.0 + 1.5 * (np.log(cons) < 8.5) + 0.08 * (margin - 20)
        frame["churn"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["date_activ"] = frame["date_activ"].dt.strftime("%Y-%m-%d")
    frame["date_end"] = frame["date_end"].dt.strftime("%Y-%m-%d")
    return frame


def test_an_unlabelled_import_is_dated_by_its_source(key, tmp_path):
    from powerlens.features import load_clean
    from powerlens.features.engine import data_end_of

    src = tmp_path / "client_data.csv"
    powerco_like(60, 1, with_churn=False).to_csv(src, index=False)
    out = tmp_path / "new"
    summary = import_source("powerco", src, out, key)
    assert summary["as_of"] == "2016-01-01" and not (out / "labels.parquet").exists()
    assert load_clean(out, with_readings=False).data_end == pd.Timestamp("2016-01-01")
    assert data_end_of(out) == pd.Timestamp("2016-01-01")

    # a source that gives no date at all: the message says what to pass
    validation = json.loads((out / "validation.json").read_text())
    (out / "validation.json").write_text(json.dumps({k: v for k, v in validation.items() if k != "as_of"}))
    with pytest.raises(InvalidInput, match="pass --as-of YYYY-MM-DD"):
        _ = load_clean(out, with_readings=False).data_end
    with pytest.raises(InvalidInput, match="pass --as-of YYYY-MM-DD"):
        data_end_of(out)


def _project(tmp_path, key_file) -> tuple[dict, list[str]]:
    """A project folder whose params train quickly, and the environment of its commands."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["train"]["families"] = ["lightgbm", "logistic"]
    params["train"]["search"]["enabled"] = False
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "POWERLENS_ROOT": str(tmp_path), "POWERLENS_KEY_FILE": str(key_file),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    return env, [sys.executable, "-m", "powerlens.cli"]


def _run(cmd, env, cwd):
    return subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_new_customers_are_scored_by_the_champion_and_foreign_features_are_refused(key_file, small_clean, tmp_path):
    env, powerlens = _project(tmp_path, key_file)
    labelled, unlabelled = tmp_path / "labelled" / "client_data.csv", tmp_path / "new" / "client_data.csv"
    labelled.parent.mkdir()
    unlabelled.parent.mkdir()
    powerco_like(1500, 2, with_churn=True).to_csv(labelled, index=False)
    powerco_like(300, 3, with_churn=False).to_csv(unlabelled, index=False)
    for src, out in ((labelled, "pc"), (unlabelled, "pc_new")):
        done = _run([*powerlens, "import", "powerco", src, "--out", tmp_path / out], env, tmp_path)
        assert done.returncode == 0, done.stderr

    # features of another folder (here the synthetic utility's) are refused, naming both folders
    other = tmp_path / "features_of_the_utility"
    done = _run([*powerlens, "features", "--data", small_clean, "--out", other], env, tmp_path)
    assert done.returncode == 0, done.stderr
    done = _run([*powerlens, "train", "churn", "--data", tmp_path / "pc", "--features", other], env, tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert str(other) in done.stderr and str(tmp_path / "pc") in done.stderr and "powerlens features --data" in done.stderr

    done = _run([*powerlens, "features", "--data", tmp_path / "pc", "--out", tmp_path / "pc_features"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    done = _run([*powerlens, "train", "churn", "--data", tmp_path / "pc", "--features", tmp_path / "pc_features"],
                env, tmp_path)
    assert done.returncode == 0 and "decision:" in done.stdout, done.stderr

    scores = tmp_path / "new_scores.csv"
    done = _run([*powerlens, "score", "churn", "--data", tmp_path / "pc_new", "--model",
                 "models:/powerlens-churn@champion", "--out", scores], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "as of 2016-01-01" in done.stdout + done.stderr
    frame = pd.read_csv(scores)
    assert len(frame) == 300 and frame["score"].between(0, 1).all() and frame["score"].nunique() > 10
    new_ids = set(pd.read_parquet(tmp_path / "pc_new" / "customers.parquet")["customer_id"])
    assert set(frame["customer_id"]) == new_ids

    # --as-of scores another date; a malformed one is a one-line usage error
    done = _run([*powerlens, "score", "churn", "--data", tmp_path / "pc_new", "--as-of", "2016-03-01",
                 "--out", tmp_path / "later.csv"], env, tmp_path)
    assert done.returncode == 0 and "as of 2016-03-01" in done.stdout + done.stderr, done.stderr
    done = _run([*powerlens, "score", "churn", "--data", tmp_path / "pc_new", "--as-of", "March",
                 "--out", tmp_path / "x.csv"], env, tmp_path)
    assert done.returncode == 2 and "--as-of must be a date" in done.stderr and "Traceback" not in done.stderr


def test_an_unfinished_import_or_older_features_are_refused_with_what_to_do(key, tmp_path):
    from powerlens.config import load_config
    from powerlens.errors import MissingInput
    from powerlens.jobs import features as features_job
    from powerlens.jobs.common import features_manifest

    src = tmp_path / "client_data.csv"
    powerco_like(40, 4, with_churn=True).to_csv(src, index=False)
    out = tmp_path / "pc"
    import_source("powerco", src, out, key)
    cfg = load_config(ROOT / "params.yaml")
    features_job.run(cfg.features, data=out, out=tmp_path / "features", echo=lambda m: None)
    manifest = json.loads((tmp_path / "features" / "manifest.json").read_text())
    assert features_manifest(tmp_path / "features", out)["data_folder"] == manifest["data_folder"]

    # features of an older powerlens (no fingerprint): not "another folder", but "rebuild"
    manifest.pop("data_fingerprint")
    (tmp_path / "features" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InvalidInput, match="built by an older powerlens.*powerlens features --data"):
        features_manifest(tmp_path / "features", out)

    # an import killed before its summary was written is not taken as data
    (out / "validation.json").unlink()
    with pytest.raises(MissingInput, match="import did not finish"):
        features_job.run(cfg.features, data=out, out=tmp_path / "f2", echo=lambda m: None)
