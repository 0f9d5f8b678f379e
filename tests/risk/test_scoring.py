"""Scoring, the one way: scores, ranks independent of row order, reasons for whom they are asked."""

import numpy as np
import pandas as pd
import pytest

from powerlens.errors import PowerlensError, UsageError
from powerlens.risk.models import make_model
from powerlens.risk.scoring import (
    FeatureMismatch,
    add_reasons,
    check_signature,
    rank_scores,
    score_frame,
    score_wide,
)


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(0)
    n = 400
    feats = pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(n)], "as_of": pd.Timestamp("2026-11-01"),
                          "on_time_rate": rng.random(n), "kwh_365d": rng.gamma(2, 1000, n),
                          "region": rng.choice(["north", "south"], n)})
    y = (feats["on_time_rate"] + rng.normal(0, 0.2, n) < 0.4).astype(int)
    X = feats.drop(columns=["customer_id", "as_of"])
    model = make_model("lightgbm", {"lightgbm": {"n_estimators": 40, "min_child_samples": 10}}).fit(X, y)
    return model, feats


def test_scores_and_ranks_do_not_depend_on_the_rows_order(scored):
    model, feats = scored
    feats = pd.concat([feats, feats.head(5).assign(customer_id=lambda d: d["customer_id"] + "-twin")],
                      ignore_index=True)  # identical scores: ties are broken by customer id
    frame = score_frame(model, feats, "arrears", model_version=3)
    assert list(frame.columns) == ["customer_id", "task", "score", "rank", "reasons", "model_version"]
    assert sorted(frame["rank"]) == list(range(1, len(frame) + 1))
    assert frame.loc[frame["rank"] == 1, "score"].iloc[0] == frame["score"].max()
    assert (frame["model_version"] == 3).all() and (frame["reasons"] == "").all()
    assert ((frame["score"] >= 0) & (frame["score"] <= 1)).all()
    shuffled = score_frame(model, feats.sample(frac=1, random_state=1), "arrears")
    by_id = frame.set_index("customer_id")
    again = shuffled.set_index("customer_id").loc[by_id.index]
    assert (again["rank"] == by_id["rank"]).all() and np.allclose(again["score"], by_id["score"])
    twins = by_id.loc[["c000", "c000-twin"], "rank"]
    assert twins["c000-twin"] == twins["c000"] + 1


def test_ties_rank_by_customer_id():
    assert list(rank_scores(pd.Series(["b", "a", "c"]), np.array([0.5, 0.5, 0.9]))) == [3, 2, 1]


def test_reasons_only_for_the_customers_asked_for(scored):
    model, feats = scored
    wanted = {"c001", "c010", "c123", "not-a-customer"}
    frame = score_frame(model, feats, "arrears", explain=wanted)
    explained = frame.loc[frame["reasons"] != "", "customer_id"]
    assert set(explained) <= wanted and len(explained) >= 2
    assert (frame.loc[~frame["customer_id"].isin(wanted), "reasons"] == "").all()
    everyone = score_frame(model, feats, "arrears", explain="all")
    assert (everyone["reasons"] != "").mean() > 0.5  # a low score may have nothing that raised it
    same = everyone.set_index("customer_id").loc[list(explained), "reasons"]
    assert (frame.set_index("customer_id").loc[list(explained), "reasons"] == same).all()  # a row's reasons are its own
    later = add_reasons(score_frame(model, feats, "arrears"), model, feats, ["c001", "c010"])
    assert set(later.loc[later["reasons"] != "", "customer_id"]) <= {"c001", "c010"}


def test_add_reasons_needs_the_task_of_a_table_of_several(scored):
    model, feats = scored
    both = pd.concat([score_frame(model, feats, "arrears"), score_frame(model, feats, "churn")], ignore_index=True)
    with pytest.raises(UsageError, match="task="):
        add_reasons(both, model, feats, ["c001"])
    out = add_reasons(both, model, feats, ["c001"], task="churn")
    assert set(out.loc[out["reasons"] != "", "task"]) == {"churn"}


def test_a_multiclass_score_is_the_predicted_class_and_wide_gives_each_class():
    rng = np.random.default_rng(3)
    n = 300
    feats = pd.DataFrame({"customer_id": [f"h{i}" for i in range(n)], "kwh_365d": rng.gamma(2, 1000, n),
                          "daily_cv": rng.random(n)})
    y = np.where(feats["kwh_365d"] > 2500, "Affluent", np.where(feats["daily_cv"] > 0.5, "Adversity", "Comfortable"))
    model = make_model("logistic", {}).fit(feats[["kwh_365d", "daily_cv"]], y)
    frame = score_frame(model, feats, "acorn_group")
    assert list(frame.columns) == ["customer_id", "task", "score", "predicted_class", "rank", "reasons"]
    proba = model.predict_proba(feats[["kwh_365d", "daily_cv"]])
    assert (np.diff(frame["rank"]) == 1).all() and frame["score"].is_monotonic_decreasing  # highest first
    frame = frame.set_index("customer_id").loc[feats["customer_id"]]
    assert np.allclose(frame["score"], proba.max(axis=1))
    assert set(frame["predicted_class"]) <= {"Affluent", "Adversity", "Comfortable"}
    wide = score_wide(model, feats)
    assert list(wide.columns) == ["customer_id", "score_Adversity", "score_Affluent", "score_Comfortable", "reasons"]
    assert np.allclose(wide.filter(like="score_").sum(axis=1), 1)


def test_data_without_the_models_columns_is_refused(scored):
    model, feats = scored
    assert check_signature(model, feats.assign(extra_col=1.0)) == ["extra_col"]
    with pytest.raises(FeatureMismatch, match="missing on_time_rate") as info:
        check_signature(model, feats.drop(columns=["on_time_rate"]))
    assert isinstance(info.value, PowerlensError)
    wide = score_wide(model, feats)
    assert list(wide.columns) == ["customer_id", "score", "reasons"] and len(wide) == len(feats)
