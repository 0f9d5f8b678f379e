"""Training: families compared, the promotion rule, multi-class tasks, search budgets, per-source
settings, and the generator's drivers learnt on a 3,000-customer utility."""


import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from powerlens import features as F
from powerlens.config import project_root
from powerlens.jobs.train import fit_and_log
from powerlens.risk import labels, prepare
from powerlens.risk.explain import reason_codes, reason_table
from powerlens.risk.models import make_model
from powerlens.risk.train import decide_promotion, fit_and_compare
from risk.generator_truth import CHURN_DRIVERS, CREDIT, THEFT_DRIVERS
from support import ROOT
from support import acorn_like as _acorn_like


@pytest.fixture(scope="module")
def train_params():
    return yaml.safe_load((project_root() / "params.yaml").read_text())["train"]


def test_promotion_rule():
    assert decide_promotion(0.80, None, 0.01)[0]
    assert decide_promotion(0.82, 0.80, 0.01)[0]
    promoted, why = decide_promotion(0.805, 0.80, 0.01)
    assert not promoted and "challenger" in why


SMALL_DATA = {"n_estimators": 150, "learning_rate": 0.05, "num_leaves": 7, "min_child_samples": 10,
              "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8}


@pytest.fixture(scope="module")
def utility_3000(tmp_path_factory, key):
    """A synthetic utility large enough to compare families: ~40 churners and ~20 tamperers at
    the validation cut-off (the 600-customer utility has a dozen and two, and its ROC-AUCs swing
    by +-0.05 with the features' noise)."""
    from powerlens.importers.utility_export import import_utility_export
    from powerlens.synthetic import SyntheticConfig, generate

    root = tmp_path_factory.mktemp("utility_3000")
    generate(SyntheticConfig(customers=3000, months=24, seed=11), root / "raw")
    import_utility_export(root / "raw", root / "clean", key, truth_out=root / "truth.parquet")
    return F.load_clean(root / "clean"), root / "truth.parquet"


def _permuted(y: pd.Series, as_of: pd.Series, seed: int = 0) -> pd.Series:
    """The labels shuffled within each cut-off: the same base rates, no link to the features."""
    rng = np.random.default_rng(seed)
    return y.groupby(as_of.to_numpy()).transform(lambda s: pd.Series(rng.permutation(s.to_numpy()), index=s.index))


def _driver_share(model, rows: pd.DataFrame, drivers: set[str]) -> float:
    """The share of these rows' reasons (up to 3 each) that name one of the generator's drivers."""
    table = reason_table(model, rows.reset_index(drop=True), np.arange(len(rows)))
    return float(table["feature"].isin(drivers).mean())


# measured on this utility (seed 11): best ROC-AUC 0.83 / 0.978 / 0.842; the share of the
# positives' reasons naming a driver 0.55 / 0.92 / 0.45, against 0.28 / 0.11 / 0.13 for the same
# model on labels permuted within each cut-off (whose ROC-AUC is 0.44 / 0.48 / 0.45). A third of
# churn's and a quarter of arrears' columns are drivers, so a floor must sit well above that.
# Since the generator bills from tariffs with a mid-window price rise that every customer's
# consumption answers (price sensitivity), churn's ROC-AUC on seed 11 is 0.78: over seeds 11 / 12
# / 13 it was 0.821 / 0.830 / 0.755 before and 0.783 / 0.836 / 0.748 after (3,000 customers x 24
# months), a seed-to-seed spread of +-0.04 beside a mean change of -0.013; the floor sits under
# the spread, far above permuted labels' 0.44.
# The same price response shows in churn's reasons: the model names the seasonal consumption
# indices of the months around the rise (what the customer used before it against after: its
# answer to the price) more than the price-sensitivity estimates, whose year-on-year pairs in
# 24 months all straddle the rise (generator_truth.PRICE_RESPONSE). Measured on seed 11: the
# share naming a driver 0.44 against 0.32 for permuted labels; 0.71 / 0.28 when the generator's
# consumption does not answer the price (PRICE_ELASTICITY = 0). In a 36-month window, where the
# elasticity has pairs on both sides of the rise, the shares on seeds 11 / 12 / 13 are 0.51 /
# 0.56 / 0.58 with the price response and 0.50 / 0.57 / 0.61 without (its Spearman with the
# planted sensitivity 0.57). `margin`: the share above the permuted labels' share.
# LEADS: the best family's lead over the logistic baseline, and the lower end of its 90% paired
# bootstrap interval, seeds 11 / 12 / 13 (24 months, with the price response): churn +0.074 /
# +0.115 / +0.148, low 0.013 / 0.042 / 0.062; theft +0.019 / +0.112 / +0.064, low -0.034 /
# -0.016 / -0.012 (-0.028 / -0.009 without the price response on seeds 12 / 13: the tariff-
# priced bills' features give the logistic a linear view of a metered drop); arrears: both at
# 0.96-0.99, so "far above random" is the claim there.
FLOORS = {"churn": {"roc_auc": 0.76, "share": 0.40, "margin": 0.1},
          "arrears": {"roc_auc": 0.95, "share": 0.85, "margin": 0.2},
          "theft": {"roc_auc": 0.78, "share": 0.40, "margin": 0.2}}


@pytest.mark.slow
def test_models_learn_the_generators_drivers(utility_3000, train_params):
    """On a synthetic utility, churn's and theft's best family beats the logistic baseline and
    random clearly on the latest cut-off (arrears: both far above random), and a floor near the
    measured ROC-AUC, while the same model on permuted labels is no better than chance; the
    reasons of the customers who churned, fell into arrears or were caught stealing name what
    the generator made them do it, far more often than a model of permuted labels does; arrears
    and theft scores rank the generator's true distressed payers and tamperers far above random."""
    small_data, small_truth = utility_3000
    training, scoring = F.cutoffs_for(small_data.data_end, 3, 3, 3)
    feats = F.build_many(small_data, training)
    truth = pd.read_parquet(small_truth).set_index("customer_id")
    now = F.build(small_data, scoring)
    params = train_params | {"families": ["lightgbm", "logistic", "histgb"], "search": {"enabled": False}}
    drivers = {"churn": CHURN_DRIVERS, "arrears": CREDIT, "theft": THEFT_DRIVERS}
    models = {}
    for task in ("churn", "arrears", "theft"):
        y = labels.derive(task, small_data, feats, 3, 60)
        assert y.groupby(feats["as_of"]).sum().min() >= 2, task  # every cut-off has positives to learn from
        result = fit_and_compare(task, feats, y, params)
        best, logit = result.best("roc_auc"), result.families["logistic"]
        # thresholds and interactions (churn), level drops (theft), and for arrears an unpaid bill
        # that means distress from a good payer but a bill paid late as usual from a late one
        # "clearly": the lead's 90% paired bootstrap interval is above zero
        assert best.family != "logistic", task
        assert best.metrics["roc_auc"] > FLOORS[task]["roc_auc"], (task, best.metrics["roc_auc"])
        if task == "churn":  # clearly: the lead's 90% paired bootstrap interval is above zero
            assert best.metrics["lead_vs_logistic_low"] > 0, (task, best.family, best.metrics, logit.metrics)
        elif task == "theft":  # ahead (see LEADS): the interval reaches below zero on every seed measured
            assert best.metrics["roc_auc"] > logit.metrics["roc_auc"], (task, best.metrics, logit.metrics)
        # chance: the mean over five permutations (with a dozen positives at the validation
        # cut-off one permutation's ROC-AUC ranges 0.38-0.68 on theft)
        y_perm = _permuted(y, feats["as_of"])
        chance = np.mean([fit_and_compare(task, feats, _permuted(y, feats["as_of"], seed), params,
                                          families=("lightgbm",)).families["lightgbm"].metrics["roc_auc"]
                          for seed in range(5)])
        assert chance < 0.6, (task, chance)
        assert result.families["lightgbm"].metrics["roc_auc"] - chance > 0.2, task
        # reasons: a model on every cut-off (small-data settings: a few dozen positives)
        cols = prepare.select_columns(feats, task, params)
        model = make_model("lightgbm", params, task=task, hyperparameters=SMALL_DATA).fit(feats[cols], y)
        share = _driver_share(model, feats.loc[y.to_numpy() == 1, cols], drivers[task])
        assert share >= FLOORS[task]["share"], (task, share)
        noise = make_model("lightgbm", params, task=task, hyperparameters=SMALL_DATA).fit(feats[cols], y_perm)
        noise_share = _driver_share(noise, feats.loc[y_perm.to_numpy() == 1, cols], drivers[task])
        assert share - noise_share > FLOORS[task]["margin"], (task, share, noise_share)
        models[task] = (model, cols)

    model, cols = models["arrears"]
    score = model.predict_proba(now[cols])[:, 1]
    t = truth.loc[now["customer_id"]]
    months_in = ((scoring - pd.to_datetime(t["distress_onset"])).dt.days / 30.44).to_numpy()
    in_distress = (months_in >= 0) & (months_in < t["distress_months"].to_numpy() + 1)
    assert roc_auc_score(in_distress, score) > 0.9
    top = now.assign(score=score).nlargest(10, "score")
    words = " ".join(reason_codes(model, top[cols])).lower()
    assert any(w in words for w in ("past due", "unpaid", "on time", "paid"))

    model, cols = models["theft"]
    s = model.predict_proba(now[cols])[:, 1]
    t = truth.loc[now["customer_id"]]
    stealing = (t["theft"] & (pd.to_datetime(t["theft_start"]) < scoring) &
                (pd.to_datetime(t["theft_end"]) >= scoring - pd.Timedelta(days=30))).to_numpy()
    assert roc_auc_score(stealing, s) > 0.7


@pytest.mark.slow
def test_multiclass_task_trains_scores_and_explains(mlflow_store, tmp_path):
    feats, y = _acorn_like()
    from powerlens.config import load_config

    params = load_config(ROOT / "params.yaml").train.as_dict() | {
        "families": ["lightgbm", "logistic", "blend"], "cv_folds": 3, "search": {"enabled": False},
        "lightgbm": {"n_estimators": 80, "num_leaves": 7, "min_child_samples": 20},
        "lightgbm_by_task": {}, "logistic_by_task": {}, "histgb_by_task": {}, "exclude_features_by_task": {},
        "feature_groups_by_task": {"acorn_group": ["load_profile", "theft_signal"]}}
    summary = fit_and_log("acorn_group", feats, y, params, {}, experiment="test-risk", log=lambda m: None,
                            plots=tmp_path / "plots")
    assert summary["classes"] == y.value_counts().sort_index().to_dict()
    lgb = summary["families"]["lightgbm"]
    per_class = [lgb[f"roc_auc_{c}"] for c in ("adversity", "affluent", "comfortable")]
    assert lgb["roc_auc"] == pytest.approx(np.mean(per_class), abs=1e-4) and lgb["roc_auc"] > 0.8
    assert {"accuracy", "balanced_accuracy", "f1_macro", "log_loss", "brier"} <= set(lgb)
    from powerlens import tracking

    model = tracking.load_champion("acorn_group")
    assert "tou_tariff" not in model.feature_names_in_  # consumption only: the tariff flag leaks the class
    X = feats[list(model.feature_names_in_)]
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3) and np.allclose(proba.sum(axis=1), 1)
    rich = X.assign(p=proba[:, list(model.classes_).index("Affluent")]).nlargest(10, "p").drop(columns="p")
    assert all("energy used in the 365 days" in r for r in reason_codes(model, rich))
    roc = pd.read_csv(tmp_path / "plots" / "roc.csv")
    assert {"lightgbm: Affluent", "logistic: Adversity", "blend: Comfortable"} <= set(roc["series"])
    assert set(pd.read_csv(tmp_path / "plots" / "calibration.csv")["series"]) >= {"perfect"}


@pytest.mark.slow
def test_a_search_budget_too_small_for_a_second_trial_is_skipped_and_said():
    feats, y = _acorn_like(300)
    params = {"families": ["logistic"], "cv_folds": 3,
              "search": {"enabled": True, "timeout_seconds": 9, "min_seconds_per_fold": 2, "n_trials": 5}}
    said = []  # no nested search under k-fold unless asked for
    result = fit_and_compare("acorn_group", feats, y, params, search=True, log=said.append)
    assert result.families["logistic"].search_trials == 0
    assert any("search logistic: off under cross-validation" in m for m in said)
    said.clear()
    params["search"] |= {"cross_validated": True, "timeout_seconds": 3}
    result = fit_and_compare("acorn_group", feats, y, params, search=True, log=said.append)
    assert result.families["logistic"].search_trials == 0
    assert any("search logistic: skipped, 1.0s per outer fold" in m for m in said)
    said.clear()
    params["search"]["timeout_seconds"] = 9  # 3 s per outer fold: searched
    result = fit_and_compare("acorn_group", feats, y, params, search=True, log=said.append)
    assert result.families["logistic"].search_trials >= 3 and not any("skipped" in m for m in said)


def test_a_source_has_its_own_settings_over_the_tasks():
    from powerlens.risk.train import for_source

    params = {"lightgbm_by_task": {"acorn_group": {"num_leaves": 4}}, "cv_folds": 5,
              "by_source": {"powerco": {"lightgbm_by_task": {"churn": {"boosting_type": "dart"}}, "cv_folds": 3}}}
    powerco = for_source(params, "powerco")
    assert powerco["lightgbm_by_task"] == {"acorn_group": {"num_leaves": 4}, "churn": {"boosting_type": "dart"}}
    assert powerco["cv_folds"] == 3 and params["cv_folds"] == 5  # the params themselves are untouched
    assert for_source(params, "synthetic") == params and for_source(params, None) == params


@pytest.mark.slow
def test_families_side_by_side_give_the_same_models_and_say_the_same_lines():
    feats, classes = _acorn_like(300)
    y = pd.Series((classes == "Affluent").astype(int))
    params = {"families": ["lightgbm", "logistic", "histgb", "blend"], "cv_folds": 3, "lightgbm": SMALL_DATA,
              "histgb": {"max_iter": 50}, "search": {"enabled": True, "cross_validated": True, "timeout_seconds": 60,
                                                     "n_trials": 2, "inner_folds": 2, "min_seconds_per_fold": 0}}
    said = {}
    results = {}
    for workers in (1, 2):
        said[workers] = []
        results[workers] = fit_and_compare("churn", feats, y, params | {"workers": workers, "workers_min_rows": 0},
                                           search=True,
                                           log=said[workers].append)
    one, two = results[1], results[2]
    assert list(one.families) == list(two.families) == ["lightgbm", "logistic", "histgb", "blend"]
    for family in one.families:
        np.testing.assert_array_equal(one.families[family].valid_score, two.families[family].valid_score)
        assert one.families[family].metrics == two.families[family].metrics
        assert one.families[family].hyperparameters == two.families[family].hyperparameters
    # every line a worker said reaches the caller's log (none lost in another process)
    assert len(said[2]) == len(said[1]) > 0
    assert sorted(m.split(":")[0] for m in said[2]) == sorted(m.split(":")[0] for m in said[1])


def test_worker_processes_only_for_enough_rows():
    from powerlens.risk.models import workers_for

    params = {"workers": 2, "workers_min_rows": 20_000}
    assert workers_for(params, 19_999) == 1 and workers_for(params, 20_000) == 2
    assert workers_for({}, 10**6) == 1  # one process unless asked


def test_training_sample_keeps_every_positive_and_weights_the_negatives_to_the_base_rate():
    from powerlens.risk.splits import training_sample

    y = np.r_[np.ones(300, dtype=int), np.zeros(9700, dtype=int)]
    rows, weight = training_sample(y, None, 0)
    assert weight is None and np.array_equal(rows, np.arange(len(y)))
    rows, weight = training_sample(y, 20_000, 0)
    assert weight is None and np.array_equal(rows, np.arange(len(y)))
    rows, weight = training_sample(y, 2000, 0)
    assert len(rows) == 2000 and y[rows].sum() == 300  # every positive
    assert np.all(np.diff(rows) > 0)  # in the given (canonical) order
    negatives = y[rows] == 0
    assert np.allclose(weight[~negatives], 1.0)
    assert weight[negatives].sum() == pytest.approx(9700)  # each kept negative stands for its share
    assert np.average(y[rows], weights=weight) == pytest.approx(0.03)  # the true base rate
    again, _ = training_sample(y, 2000, 0)
    other, _ = training_sample(y, 2000, 1)
    assert np.array_equal(rows, again) and not np.array_equal(rows, other)
    # a cap below the positives: all positives, half the cap of negatives
    rows, weight = training_sample(y, 400, 0)
    assert y[rows].sum() == 300 and (y[rows] == 0).sum() == 200


def test_a_capped_training_sample_ranks_as_well_and_its_weights_keep_the_probabilities(utility_3000, train_params,
                                                                                       monkeypatch):
    """train.max_training_rows on the 3,000-customer utility (~5,500 training rows over 3
    cut-offs, ~70 churners): a third of the rows, every churner kept, the rest weighted. The
    validation ROC-AUC stays within 0.03 of training on every row; the mean predicted
    probability stays nearer the all-rows model's than without the weights (measured: 0.0066
    all rows, 0.0092 weighted, 0.0134 unweighted; the calibration then fits on the validation
    rows, which are never sampled)."""
    from powerlens.risk import train as risk_train

    small_data, _ = utility_3000
    training, _ = F.cutoffs_for(small_data.data_end, 3, 3, 3)
    feats = F.build_many(small_data, training)
    y = labels.derive("churn", small_data, feats, 3, 60)
    params = train_params | {"families": ["lightgbm"], "search": {"enabled": False}, "max_training_rows": None}
    full = fit_and_compare("churn", feats, y, params)
    n_train = len(full.y_train)
    capped = fit_and_compare("churn", feats, y, params | {"max_training_rows": n_train // 3})
    sample = capped.training_sample
    assert full.training_sample is None
    assert sample["rows_before"] == n_train and sample["rows"] == n_train // 3
    assert capped.y_train.sum() == full.y_train.sum()  # every churner
    auc_full = full.families["lightgbm"].metrics["roc_auc"]
    auc_capped = capped.families["lightgbm"].metrics["roc_auc"]
    assert abs(auc_capped - auc_full) < 0.03, (auc_full, auc_capped)

    sampled = risk_train.training_sample
    monkeypatch.setattr(risk_train, "training_sample",
                        lambda y, cap, seed: (sampled(y, cap, seed)[0], np.ones(cap)))
    unweighted = fit_and_compare("churn", feats, y, params | {"max_training_rows": n_train // 3})
    mean_p = {name: r.families["lightgbm"].valid_score.mean()
              for name, r in (("all", full), ("weighted", capped), ("unweighted", unweighted))}
    assert abs(mean_p["weighted"] - mean_p["all"]) < 0.6 * abs(mean_p["unweighted"] - mean_p["all"]), mean_p
