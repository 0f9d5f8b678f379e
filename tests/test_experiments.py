"""powerlens.experiments: the DVC experiments table (pure formatting over `dvc exp show --json`).

SAMPLE is a real `dvc exp show --json` (DVC 3.67) of a small utility (1,500 customers, 24 months)
after a baseline commit and two experiments (`dvc exp run -S train.lightgbm.num_leaves=31`, then
`-n leaves7 -S train.histgb.max_leaf_nodes=7`), trimmed: a few params, three metrics files with
a few keys each, no deps or outs.
"""

import copy

import pytest

from powerlens import experiments

# fmt: off
SAMPLE = [{'rev': 'workspace',
  'name': None,
  'data': {'rev': 'workspace',
           'timestamp': None,
           'params': {'params.yaml': {'data': {'generate': {'customers': 1500, 'seed': 42},
                                               'train': {'tasks': ['churn', 'arrears', 'theft'],
                                                         'lightgbm': {'n_estimators': 400, 'num_leaves': 31},
                                                         'histgb': {'max_iter': 300, 'max_leaf_nodes': 7}},
                                               'report': {'periods': ['2026-10']}}}},
           'metrics': {'metrics/generate.json': {'data': {'rows': {'customers': 1500}, 'seconds': 2.5}},
                       'metrics/train_churn.json': {'data': {'task': 'churn',
                                                             'primary_metric': 'roc_auc',
                                                             'families': {'logistic': {'roc_auc': 0.70698,
                                                                                       'pr_auc': 0.09042},
                                                                          'histgb': {'roc_auc': 0.82587,
                                                                                     'pr_auc': 0.06743}},
                                                             'best_family': 'histgb',
                                                             'promoted': False,
                                                             'champion_family': 'histgb'}},
                       'metrics/train_theft.json': {'data': {'task': 'theft',
                                                             'primary_metric': 'roc_auc',
                                                             'families': {'lightgbm': {'roc_auc': 0.87027,
                                                                                       'pr_auc': 0.02311},
                                                                          'logistic': {'roc_auc': 0.79001,
                                                                                       'pr_auc': 0.0876}},
                                                             'best_family': 'lightgbm',
                                                             'promoted': False,
                                                             'champion_family': 'lightgbm'}}},
           'deps': {},
           'outs': {},
           'meta': {}},
  'error': None,
  'experiments': None},
 {'rev': '94cf7985c38b3b708fc431db6ec273cb43210518',
  'name': 'main',
  'data': {'rev': '94cf7985c38b3b708fc431db6ec273cb43210518',
           'timestamp': '2026-12-03T10:09:37',
           'params': {'params.yaml': {'data': {'generate': {'customers': 1500, 'seed': 42},
                                               'train': {'tasks': ['churn', 'arrears', 'theft'],
                                                         'lightgbm': {'n_estimators': 400, 'num_leaves': 15},
                                                         'histgb': {'max_iter': 300, 'max_leaf_nodes': 15}},
                                               'report': {'periods': ['2026-10']}}}},
           'metrics': {'metrics/generate.json': {'data': {'rows': {'customers': 1500}, 'seconds': 2.5}},
                       'metrics/train_churn.json': {'data': {'task': 'churn',
                                                             'primary_metric': 'roc_auc',
                                                             'families': {'logistic': {'roc_auc': 0.70698,
                                                                                       'pr_auc': 0.09042},
                                                                          'histgb': {'roc_auc': 0.83312,
                                                                                     'pr_auc': 0.07914}},
                                                             'best_family': 'histgb',
                                                             'promoted': True,
                                                             'champion_family': 'histgb'}},
                       'metrics/train_theft.json': {'data': {'task': 'theft',
                                                             'primary_metric': 'roc_auc',
                                                             'families': {'lightgbm': {'roc_auc': 0.87027,
                                                                                       'pr_auc': 0.02311},
                                                                          'logistic': {'roc_auc': 0.79001,
                                                                                       'pr_auc': 0.0876}},
                                                             'best_family': 'lightgbm',
                                                             'promoted': True,
                                                             'champion_family': 'lightgbm'}}},
           'deps': {},
           'outs': {},
           'meta': {}},
  'error': None,
  'experiments': [{'revs': [{'rev': '4e357460f7f60e083f29d0451f513896358175f3',
                             'name': 'leaves7',
                             'data': {'rev': '4e357460f7f60e083f29d0451f513896358175f3',
                                      'timestamp': '2026-12-03T10:15:29',
                                      'params': {'params.yaml': {'data': {'generate': {'customers': 1500,
                                                                                       'seed': 42},
                                                                          'train': {'tasks': ['churn',
                                                                                              'arrears',
                                                                                              'theft'],
                                                                                    'lightgbm': {'n_estimators': 400,
                                                                                                 'num_leaves': 31},
                                                                                    'histgb': {'max_iter': 300,
                                                                                               'max_leaf_nodes': 7}},
                                                                          'report': {'periods': ['2026-10']}}}},
                                      'metrics': {'metrics/generate.json': {'data': {'rows': {'customers': 1500},
                                                                                     'seconds': 2.5}},
                                                  'metrics/train_churn.json': {'data': {'task': 'churn',
                                                                                        'primary_metric': 'roc_auc',
                                                                                        'families': {'logistic': {'roc_auc': 0.70698,
                                                                                                                  'pr_auc': 0.09042},
                                                                                                     'histgb': {'roc_auc': 0.82587,
                                                                                                                'pr_auc': 0.06743}},
                                                                                        'best_family': 'histgb',
                                                                                        'promoted': False,
                                                                                        'champion_family': 'histgb'}},
                                                  'metrics/train_theft.json': {'data': {'task': 'theft',
                                                                                        'primary_metric': 'roc_auc',
                                                                                        'families': {'lightgbm': {'roc_auc': 0.87027,
                                                                                                                  'pr_auc': 0.02311},
                                                                                                     'logistic': {'roc_auc': 0.79001,
                                                                                                                  'pr_auc': 0.0876}},
                                                                                        'best_family': 'lightgbm',
                                                                                        'promoted': False,
                                                                                        'champion_family': 'lightgbm'}}},
                                      'deps': {},
                                      'outs': {},
                                      'meta': {}},
                             'error': None,
                             'experiments': None}],
                   'executor': None,
                   'name': 'leaves7'},
                  {'revs': [{'rev': 'aeb1a1b31c7cf468135694f8c455046c0ff33553',
                             'name': 'boozy-genu',
                             'data': {'rev': 'aeb1a1b31c7cf468135694f8c455046c0ff33553',
                                      'timestamp': '2026-12-03T10:12:03',
                                      'params': {'params.yaml': {'data': {'generate': {'customers': 1500,
                                                                                       'seed': 42},
                                                                          'train': {'tasks': ['churn',
                                                                                              'arrears',
                                                                                              'theft'],
                                                                                    'lightgbm': {'n_estimators': 400,
                                                                                                 'num_leaves': 31},
                                                                                    'histgb': {'max_iter': 300,
                                                                                               'max_leaf_nodes': 15}},
                                                                          'report': {'periods': ['2026-10']}}}},
                                      'metrics': {'metrics/generate.json': {'data': {'rows': {'customers': 1500},
                                                                                     'seconds': 2.5}},
                                                  'metrics/train_churn.json': {'data': {'task': 'churn',
                                                                                        'primary_metric': 'roc_auc',
                                                                                        'families': {'logistic': {'roc_auc': 0.70698,
                                                                                                                  'pr_auc': 0.09042},
                                                                                                     'histgb': {'roc_auc': 0.83312,
                                                                                                                'pr_auc': 0.07914}},
                                                                                        'best_family': 'histgb',
                                                                                        'promoted': False,
                                                                                        'champion_family': 'histgb'}},
                                                  'metrics/train_theft.json': {'data': {'task': 'theft',
                                                                                        'primary_metric': 'roc_auc',
                                                                                        'families': {'lightgbm': {'roc_auc': 0.87027,
                                                                                                                  'pr_auc': 0.02311},
                                                                                                     'logistic': {'roc_auc': 0.79001,
                                                                                                                  'pr_auc': 0.0876}},
                                                                                        'best_family': 'lightgbm',
                                                                                        'promoted': False,
                                                                                        'champion_family': 'lightgbm'}}},
                                      'deps': {},
                                      'outs': {},
                                      'meta': {}},
                             'error': None,
                             'experiments': None}],
                   'executor': None,
                   'name': 'boozy-genu'}]}]

# fmt: on

EXPERIMENTS = ["boozy-genu", "leaves7"]  # oldest first (dvc exp show lists the newest first)
CHANGED = ["train.lightgbm.num_leaves", "train.histgb.max_leaf_nodes"]


def test_rows_workspace_baseline_then_experiments():
    rows = experiments.rows(SAMPLE)
    assert [r.kind for r in rows][:2] == ["workspace", "baseline"]
    assert rows[1].label.startswith("main (")
    assert [r.label for r in rows if r.kind == "experiment"] == EXPERIMENTS
    assert rows[1].params["train.lightgbm.num_leaves"] == 15


def test_only_the_params_that_differ_from_the_baseline():
    assert experiments.changed_params(experiments.rows(SAMPLE)) == CHANGED


def test_headline_is_the_best_family_and_the_champion():
    churn = SAMPLE[1]["data"]["metrics"]["metrics/train_churn.json"]["data"]
    head = experiments.headline(churn)
    best = churn["best_family"]
    assert head == {"best": best, "roc_auc": churn["families"][best]["roc_auc"],
                    "pr_auc": churn["families"][best]["pr_auc"], "champion": churn["champion_family"]}


def test_table_columns_and_cells():
    header, cells = experiments.table(SAMPLE)
    assert header[: 1 + len(CHANGED)] == ["experiment", *CHANGED]
    assert header[1 + len(CHANGED):] == [f"{task} {col}" for task in ("churn", "theft")
                                         for col in ("best", "roc_auc", "pr_auc", "champion")]
    baseline = cells[1]
    assert baseline[header.index("train.lightgbm.num_leaves")] == "15"
    assert baseline[header.index("churn roc_auc")] == "0.8331"
    assert cells[2][header.index("train.lightgbm.num_leaves")] == "31"
    # generate.json is not a training metrics file; unchanged params (seed, customers) are not shown
    assert not any("seed" in h or "customers" in h or "generate" in h for h in header)


def test_render_is_aligned_text():
    text = experiments.render(SAMPLE)
    lines = text.splitlines()
    assert lines[0].startswith("experiment") and set(lines[1]) <= {"-", " "}
    assert len(lines) == 2 + 2 + len(EXPERIMENTS)
    assert all(name in text for name in EXPERIMENTS)
    assert "no experiments yet" not in text


def test_no_experiments_and_a_failed_one():
    only_baseline = copy.deepcopy(SAMPLE)
    only_baseline[1]["experiments"] = None
    assert "no experiments yet" in experiments.render(only_baseline)
    assert experiments.changed_params(experiments.rows(only_baseline)) == CHANGED  # the workspace differs

    failed = copy.deepcopy(SAMPLE)
    exp = failed[1]["experiments"][0]["revs"][0]
    exp["data"], exp["error"] = {}, {"type": "ReproductionError", "msg": "failed to reproduce 'train@churn'"}
    header, cells = experiments.table(failed)
    row = next(c for c in cells if c[0] == failed[1]["experiments"][0]["name"])
    assert row[1].startswith("failed: failed to reproduce") and len(row) == len(header)


def test_missing_metrics_show_a_dash():
    sample = copy.deepcopy(SAMPLE)
    del sample[0]["data"]["metrics"]["metrics/train_theft.json"]
    header, cells = experiments.table(sample)
    assert cells[0][header.index("theft roc_auc")] == "-"


def test_cli_compare_needs_a_task_or_experiments():
    from typer.testing import CliRunner

    from powerlens.cli import app

    result = CliRunner().invoke(app, ["compare"])
    assert result.exit_code != 0
    assert "--experiments" in CliRunner().invoke(app, ["compare", "--help"]).output


@pytest.mark.slow
def test_a_dvc_experiment_registers_a_tagged_challenger_only(mlflow_store, tmp_path, monkeypatch):
    """Inside `dvc exp run` (DVC_EXP_NAME set) runs and versions carry the experiment's name and
    the model is never promoted, not even the first one; MLflow experiments get a description."""
    import numpy as np
    import pandas as pd
    from mlflow import MlflowClient

    from powerlens import tracking
    from powerlens.jobs.train import fit_and_log

    rng = np.random.default_rng(0)
    feats = pd.concat([pd.DataFrame({"customer_id": [f"c{i}" for i in range(400)], "as_of": pd.Timestamp(d),
                                     "on_time_rate": rng.normal(size=400), "kwh_365d": rng.normal(size=400),
                                     "region": "north"}) for d in ("2026-01-01", "2026-04-01", "2026-07-01")],
                      ignore_index=True)
    y = pd.Series((rng.random(len(feats)) < 1 / (1 + np.exp(-(2 * feats["on_time_rate"] - 2.5)))).astype(int))
    data = tmp_path / "features.parquet"
    feats.to_parquet(data)
    monkeypatch.setenv("DVC_EXP_NAME", "leaves7")
    tags = tracking.run_tags("train@demo", [data])
    assert tags["dvc_experiment"] == "leaves7"
    params = {"primary_metric": "roc_auc", "promotion_threshold": 0.01, "lightgbm": {"n_estimators": 30},
              "logistic": {"C": 1.0}}
    summary = fit_and_log("demo", feats, y, params, tags, experiment="test-risk", log=lambda m: None)
    assert not summary["promoted"] and summary["decision"].startswith("experiment: registered as challenger")
    client = MlflowClient()
    assert client.get_run(summary["run_id"]).data.tags["dvc_experiment"] == "leaves7"
    version = client.get_model_version_by_alias("powerlens-demo", "challenger")
    assert version.tags["dvc_experiment"] == "leaves7"
    assert tracking.champion_version("demo") is None
    assert client.get_experiment_by_name("test-risk").tags["mlflow.note.content"]
