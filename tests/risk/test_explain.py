"""Reason codes."""

import re

import numpy as np
import pandas as pd
import pytest

from powerlens.risk.explain import model_inputs, reason_codes, reason_table
from powerlens.risk.models import LightGBMModel, make_model


def test_a_reason_shows_numbers_and_known_categories_but_not_a_sources_codes():
    rng = np.random.default_rng(1)
    n = 600
    area = rng.choice(["c1a2b3c4d5e6f7a8b", "c9f8e7d6c5b4a3f2e"], n)  # a pseudonymized grid-area code
    X = pd.DataFrame({"attr_grid_area": area, "region": rng.choice(["north", "south"], n),
                      "on_time_rate": rng.random(n)})
    y = ((area == "c1a2b3c4d5e6f7a8b") & (X["on_time_rate"] < 0.5) | (X["region"] == "north")
         & (X["on_time_rate"] < 0.2)).astype(int)
    model = LightGBMModel({"n_estimators": 50, "min_child_samples": 5}).fit(X, y)
    reasons = " ".join(reason_codes(model, X[y == 1].head(20)))
    assert "source attribute grid area" in reasons and "c1a2b3" not in reasons and "c9f8e7" not in reasons
    assert re.search(r"by the due date: \d+%", reasons)


def _typical_valued(model, rows: pd.DataFrame, population: pd.DataFrame, reasons: pd.DataFrame) -> pd.DataFrame:
    """The reason rows whose value is the population's typical one, judged here on its own: a
    number within the population's 40th-60th percentiles, else the most common value."""
    inputs, pop = model_inputs(model, rows).reset_index(drop=True), model_inputs(model, population)
    typical = []
    for r in reasons.itertuples():
        known, value = pop[r.feature].dropna(), inputs.at[int(r.customer_id), r.feature]
        if pd.api.types.is_numeric_dtype(known) and known.nunique() > 2:
            lo, hi = known.quantile([0.4, 0.6])
            typical.append(bool(lo <= value <= hi))
        else:
            typical.append(str(value) == str(known.astype(str).mode().iloc[0]))
    return reasons[np.array(typical, dtype=bool)]


def _unremarkable_world(n=3000, seed=3):
    """Churn driven by complaints, where most customers have a prepaid meter-less account (the
    meter protects a little) and no run of zero-consumption days (a rare long run lowers risk:
    a vacant home does not switch supplier)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"complaints_12m": rng.poisson(0.3, n).astype(float),
                      "prepaid_meter": (rng.random(n) < 0.15).astype(float),
                      "longest_zero_streak": np.where(rng.random(n) < 0.1, rng.integers(5, 60, n), 0).astype(float),
                      "on_time_rate": rng.beta(5, 2, n)})
    logit = (-3 + 1.5 * X["complaints_12m"] - 0.8 * X["prepaid_meter"] - 1.5 * (X["longest_zero_streak"] > 0)
             - 2 * (X["on_time_rate"] - 0.7))
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.mark.parametrize("family", ["logistic", "lightgbm"])
def test_a_reason_is_never_the_value_a_typical_customer_has(family):
    """'has a prepaid meter: no' and 'longest run of zero-consumption days: 0 days' raise the
    score a little (the few who differ are safer), but most customers have them: not reasons."""
    X, y = _unremarkable_world()
    model = make_model(family, {"lightgbm": {"n_estimators": 80, "num_leaves": 7, "min_child_samples": 20},
                                "logistic": {"C": 1.0}}).fit(X, y)
    contrib = model.contributions(X)
    typical = (X["prepaid_meter"] == 0) & (X["longest_zero_streak"] == 0)
    assert ((contrib["prepaid_meter"] > 0) | (contrib["longest_zero_streak"] > 0))[typical].mean() > 0.5  # the trap
    table = reason_table(model, X, np.arange(len(X)))
    said = " ".join(reason_codes(model, X))
    assert "has a prepaid meter: no" not in said and "zero-consumption days in the look-back: 0 days" not in said
    assert _typical_valued(model, X, X, table).empty
    complained = (X["complaints_12m"] >= 2).to_numpy()
    named = table.loc[table["order"] == 1].set_index("customer_id")["feature"]
    assert (named.reindex(np.flatnonzero(complained)) == "complaints_12m").mean() > 0.9  # the true driver leads
    # a customer with nothing remarkable that raises the score gets no reason rather than a fake one
    plain = pd.DataFrame({"complaints_12m": [0.0], "prepaid_meter": [0.0], "longest_zero_streak": [0.0],
                          "on_time_rate": [float(X["on_time_rate"].median())]})
    assert reason_codes(model, plain) == [""]


@pytest.mark.slow
def test_reasons_on_the_synthetic_utility_name_its_drivers_and_nothing_typical(small_data):
    """The generator's churn and arrears drivers (synthetic/events.py, billing.py) lead the
    reasons of the customers who churned or fell into arrears and of the top of each list, and
    no reason names the value most customers have (about 20 seconds)."""
    import yaml

    from powerlens import features as F
    from powerlens.config import project_root
    from powerlens.risk import labels
    from powerlens.risk.champion import fit_champion
    from risk.generator_truth import CHURN_DRIVERS, CREDIT

    training, scoring = F.cutoffs_for(small_data.data_end, 3, 3, 3)
    feats, now = F.build_many(small_data, training), F.build(small_data, scoring)
    params = yaml.safe_load((project_root() / "params.yaml").read_text())["train"] | {
        "families": ["lightgbm", "logistic", "blend"], "search": {"enabled": False},
        "lightgbm": {"n_estimators": 150, "learning_rate": 0.05, "num_leaves": 7, "min_child_samples": 10,
                     "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8}}
    floors = {"churn": 0.5, "arrears": 0.75}  # measured 0.58-0.63 and 0.84-0.92 (a third of the columns are drivers)
    for task, drivers in (("churn", CHURN_DRIVERS), ("arrears", CREDIT)):
        y = labels.derive(task, small_data, feats, 3, 60)
        for family in ("lightgbm", "blend"):
            model = fit_champion(task, feats, y, params, family).model
            cols = list(model.feature_names_in_)
            population = feats.loc[feats["as_of"] < feats["as_of"].max(), cols]  # the rows it was fitted on
            score = model.predict_proba(now[cols])[:, 1]
            for rows in (feats.loc[y.to_numpy() == 1, cols], now[cols].iloc[np.argsort(-score)[:50]]):
                rows = rows.reset_index(drop=True)
                table = reason_table(model, rows, np.arange(len(rows)))
                assert len(table) >= len(rows)  # the list's customers do have reasons
                assert _typical_valued(model, rows, population, table).empty, (task, family)
                zero_or_no = (table["feature"].isin(["longest_zero_streak", "zero_days_90d"]) & (table["value"] == "0 days")
                              | (table["feature"] == "prepaid_meter") & (table["value"] == "no"))
                assert not zero_or_no.any()
                if family == "blend":
                    assert table["feature"].isin(drivers).mean() >= floors[task], (task, table["feature"].value_counts())
