"""The hyperparameter search: budget, reproducibility, the keep-the-defaults rule."""


import numpy as np
import pandas as pd

from powerlens.risk.search import search


def test_search_beats_a_poor_default_within_its_budget():
    rng = np.random.default_rng(5)
    n = 3000
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    y = ((X["a"] > 0) ^ (X["b"] > 0.5)).astype(int).to_numpy()  # an interaction: needs depth and rounds
    poor = {"lightgbm": {"n_estimators": 3, "num_leaves": 2, "learning_rate": 0.01}}
    splits = [(np.arange(0, 2000), np.arange(2000, n))]
    found = search("lightgbm", X, y, splits, poor, task=None, timeout=120, n_trials=8, seed=0)
    assert found.n_trials == 8 and found.seconds < 40
    first = found.history[0]
    assert first["n_estimators"] == 3 and first["num_leaves"] == 2  # params.yaml's own settings come first
    assert found.value > first["value"] + 0.1 and found.value > 0.9
    # a trial count, not a clock: the same data give the same choice (dvc repro reproduces it)
    again = search("lightgbm", X, y, splits, poor, task=None, timeout=120, n_trials=8, seed=0)
    assert again.params == found.params and again.history == found.history
    said = []  # the time cap stops a search early, and says so
    capped = search("lightgbm", X, y, splits, poor, task=None, timeout=1e-3, n_trials=8, seed=0, log=said.append)
    assert capped.n_trials == 1 and any("time cap stopped it after 1 of 8 trials" in m for m in said)


def test_a_search_keeps_the_defaults_unless_it_beats_them_by_more_than_a_standard_error():
    rng = np.random.default_rng(7)  # a draw where a trial beats the defaults by less than a standard error
    n = 1200
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    y = (X["a"] + rng.normal(0, 2.0, n) > 2.2).astype(int).to_numpy()  # a weak signal, ~40 inner positives
    good = {"lightgbm": {"n_estimators": 60, "num_leaves": 4, "learning_rate": 0.05, "min_child_samples": 20}}
    splits = [(np.arange(0, 800), np.arange(800, n))]
    said = []
    kept = search("lightgbm", X, y, splits, good, task=None, timeout=120, n_trials=8, seed=0,
                  keep_defaults_within_se=1.0, log=said.append)
    first = kept.history[0]
    assert kept.params["num_leaves"] == 4 and kept.params["n_estimators"] == 60
    assert kept.value == first["value"] and any("kept params.yaml's" in m for m in said)
    free = search("lightgbm", X, y, splits, good, task=None, timeout=120, n_trials=8, seed=0)
    assert free.value > first["value"] and free.params != kept.params  # without the rule, luck wins
    poor = {"lightgbm": {"n_estimators": 3, "num_leaves": 2, "learning_rate": 0.01}}
    Xi = pd.DataFrame(rng.normal(size=(3000, 2)), columns=["a", "b"])
    yi = ((Xi["a"] > 0) ^ (Xi["b"] > 0.5)).astype(int).to_numpy()
    beaten = search("lightgbm", Xi, yi, [(np.arange(0, 2000), np.arange(2000, 3000))], poor, task=None,
                    timeout=120, n_trials=8, seed=0, keep_defaults_within_se=1.0)
    assert beaten.params["n_estimators"] != 3 and beaten.value > 0.9  # a real gain is taken


def test_a_search_whose_defaults_fail_returns_a_setting_that_ran():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(600, 2)), columns=["a", "b"])
    y = (X["a"] > 0.5).astype(int).to_numpy()
    broken = {"histgb": {"max_iter": 50, "max_leaf_nodes": 1}}  # scikit-learn refuses fewer than 2 leaves
    found = search("histgb", X, y, [(np.arange(400), np.arange(400, 600))], broken, task=None, timeout=10,
                   n_trials=4, seed=0, keep_defaults_within_se=1.0)
    assert found.params["max_leaf_nodes"] >= 2 and found.value == max(h["value"] for h in found.history)


def test_search_seconds_turns_a_trial_count_into_a_time_budget():
    from powerlens.risk.search import by_time, search_settings

    params = {"search": {"enabled": True, "n_trials": 8, "timeout_seconds": 30, "cross_validated": False,
                         "by_family": {"logistic": {"n_trials": 3, "timeout_seconds": 2, "inner_folds": 2}}}}
    timed = {"search": by_time(params["search"], 60)}
    logistic = search_settings(timed, "logistic")
    assert logistic["timeout_seconds"] == 60 and logistic["n_trials"] >= 1000 and logistic["cross_validated"]
    assert logistic["inner_folds"] == 2  # other per-family settings stay
    assert search_settings(params, "logistic")["n_trials"] == 3  # the params themselves are not changed
    assert not by_time(params["search"], 0)["enabled"]
