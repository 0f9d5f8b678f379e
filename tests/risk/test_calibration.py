"""Calibration keeps the model's ranking: strictly increasing calibrators, no probability of 0
or 1, and every list cut at capacity ordered by risk (issue 14, finding 4)."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.isotonic import IsotonicRegression

from powerlens.risk.calibration import (
    CalibratedModel,
    StrictIsotonic,
    apply_calibrator,
    fit_calibrator,
)
from powerlens.risk.champion import calibrate
from powerlens.risk.scoring import score_frame
from powerlens.risk.train import fit_and_compare
from powerlens.strategy import plan_actions

PARAMS = {"lightgbm": {"n_estimators": 60, "num_leaves": 8, "min_child_samples": 5}, "logistic": {"C": 1.0},
          "search": {"enabled": False}}
CAPACITY = 50


def _rows(n=400, seed=0, cutoffs=("2026-01-01", "2026-04-01", "2026-07-01")):
    """Three cut-offs of customers whose risk rises steeply with one feature: a model whose top
    scores are near-certain, and isotonic plateaus at 0 and 1 at the ends."""
    rng = np.random.default_rng(seed)
    frames, labels = [], []
    for as_of in pd.to_datetime(list(cutoffs)):
        x = rng.normal(size=n)
        frames.append(pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(n)], "as_of": as_of,
                                    "on_time_rate": x, "kwh_365d": rng.gamma(2, 1000, n),
                                    "region": rng.choice(["n", "s"], n)}))
        kwh = frames[-1]["kwh_365d"].to_numpy()
        labels.append((rng.random(n) < 1 / (1 + np.exp(-(4 * x + kwh / 2000 - 4)))).astype(int))
    return pd.concat(frames, ignore_index=True), pd.Series(np.concatenate(labels))


@pytest.fixture(scope="module")
def fitted():
    feats, y = _rows()
    return feats, fit_and_compare("demo", feats, y, PARAMS, families=("logistic", "lightgbm"))


def _strictly_same_order(raw: np.ndarray, calibrated: np.ndarray) -> None:
    """Distinct raw scores give distinct calibrated ones, in the same order."""
    order = np.argsort(raw, kind="stable")
    r, c = raw[order], calibrated[order]
    distinct = np.diff(r) > 0
    assert (np.diff(c)[distinct] > 0).all(), "calibration merged or swapped distinct raw scores"
    assert spearmanr(raw, calibrated).statistic == pytest.approx(1.0)


@pytest.mark.parametrize("family", ["logistic", "lightgbm"])
@pytest.mark.parametrize("method", ["none", "platt", "isotonic"])
def test_every_calibration_keeps_the_models_ranking_and_never_says_0_or_1(fitted, family, method):
    feats, result = fitted
    fr = result.families[family]
    calibrator = fit_calibrator(method, fr.valid_score, result.y_valid)
    model = CalibratedModel(fr.model, method, calibrator)
    X = feats[list(model.feature_names_in_)]
    raw, p = model.raw_score(X), model.predict_proba(X)[:, 1]
    _strictly_same_order(raw, p)
    assert ((p > 0) & (p < 1)).all()
    n = len(result.y_valid)
    if method != "none":  # no more certainty than the calibration rows can give
        assert p.min() >= 0.5 / (n + 1) and p.max() <= 1 - 0.5 / (n + 1)
    top = np.argsort(-p, kind="stable")[:CAPACITY]  # the list a team can act on: no ties but the model's own
    assert len(np.unique(p[top])) == len(np.unique(raw[top]))  # trees tie customers in the same leaves
    if family == "logistic":
        assert len(np.unique(p[top])) == CAPACITY


def test_the_isotonic_calibrator_had_plateaus_and_certainties_that_the_strict_one_has_not(fitted):
    """What the strict calibrator fixes: sklearn's isotonic map ties whole plateaus (the list's
    order inside one was the customer ids') and says 0 and 1."""
    feats, result = fitted
    fr = result.families["lightgbm"]
    X = feats[list(fr.model.feature_names_in_)]
    raw = CalibratedModel(fr.model).raw_score(X)
    plain = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(fr.valid_score, result.y_valid)
    assert len(np.unique(np.sort(plain.predict(raw))[::-1][:CAPACITY])) < CAPACITY / 2
    assert plain.predict(raw).max() == 1.0
    strict = StrictIsotonic().fit(fr.valid_score, result.y_valid)
    _strictly_same_order(raw, strict.predict(raw))
    assert strict.predict(raw).max() < 1


def test_the_strict_isotonic_calibrator_keeps_calibration():
    """Its plateau rates hold at least MIN_BLOCK rows and the interpolation stays near them: on
    fresh rows from the same population, its Brier score is as good as sklearn's plateaus'."""
    rng = np.random.default_rng(4)

    def draw(n):
        s = rng.random(n)
        return s, (rng.random(n) < s ** 2).astype(int)

    s, y = draw(3000)
    fresh_s, fresh_y = draw(20000)
    plain = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(s, y).predict(fresh_s)
    strict = apply_calibrator("isotonic", fit_calibrator("isotonic", s, y), fresh_s)
    brier = lambda p: float(np.mean((p - fresh_y) ** 2))  # noqa: E731
    assert brier(strict) <= brier(plain) + 1e-4
    assert 0 < strict.min() and strict.max() < 1
    _strictly_same_order(fresh_s, strict)


def test_a_calibrator_tolerates_one_plateau_and_multiclass_scores():
    s = np.linspace(0.1, 0.2, 50)
    cal = StrictIsotonic().fit(s, np.zeros(50))  # no positives: one plateau at 0
    p = cal.predict(np.array([0.0, 0.1, 0.15, 0.2, 1.0]))
    assert (np.diff(p) > 0).all() and p.min() > 0 and p.max() < 1
    scores = np.random.default_rng(0).dirichlet([1, 1, 1], 300)
    y = np.array(["a", "b", "c"])[scores.argmax(axis=1)]
    cals = fit_calibrator("isotonic", scores, y, classes=["a", "b", "c"])
    q = apply_calibrator("isotonic", cals, scores)
    assert np.allclose(q.sum(axis=1), 1) and ((q > 0) & (q < 1)).all()


def test_a_scored_list_is_ordered_by_risk_and_ties_follow_the_model_not_the_customer_id(fitted):
    """A model saved with sklearn's isotonic calibrator (plateaus): the scores' rank follows the
    raw score inside a plateau, and the action list cut at capacity takes the model's first."""
    feats, result = fitted
    fr = result.families["lightgbm"]
    plateaus = CalibratedModel(fr.model, "isotonic",
                               IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
                               .fit(fr.valid_score, result.y_valid))
    now = feats[feats["as_of"] == feats["as_of"].max()].reset_index(drop=True)
    # customer ids in the reverse of the model's order: the old tie-break picked the model's last
    raw = plateaus.raw_score(now[list(plateaus.feature_names_in_)])
    now["customer_id"] = pd.Series(np.argsort(np.argsort(raw, kind="stable"), kind="stable")).map("c{:04d}".format)
    scores = score_frame(plateaus, now, "churn")
    assert scores["rank"].tolist() == list(range(1, len(scores) + 1))  # the table is in rank order
    assert scores["score"].is_monotonic_decreasing
    by_id = scores.set_index("customer_id")
    raw_of = pd.Series(raw, index=now["customer_id"]).loc[by_id.index]
    for _, group in by_id.assign(raw=raw_of).groupby("score"):
        assert group.sort_values("rank")["raw"].is_monotonic_decreasing  # inside a plateau: the raw score
    assert by_id["score"].duplicated().any()  # there were plateaus to break

    segments = pd.DataFrame({"customer_id": now["customer_id"], "value_tier": "high"})
    playbook = {"tiers": {t: {g: {"strategy": "s"} for g in "ABC"} for t in ("high", "medium", "low")},
                "actions": [{"name": "call", "when": {"task": "churn"}, "capacity": CAPACITY, "rank_by": "score"}]}
    plan = plan_actions(segments, scores, playbook)
    assert len(plan) == CAPACITY
    assert plan["customer_id"].tolist() == scores["customer_id"].head(CAPACITY).tolist()
    assert plan["priority_score"].is_monotonic_decreasing


@pytest.mark.parametrize("family", ["logistic", "lightgbm"])
def test_the_champions_calibration_keeps_the_ranking(fitted, family):
    """The one calibration code path of the train job and the walk-forward champions."""
    feats, result = fitted
    model, method, briers = calibrate(result.families[family], result)
    X = feats[list(model.feature_names_in_)]
    assert method in briers
    p = model.predict_proba(X)[:, 1]
    _strictly_same_order(model.raw_score(X), p)
    assert ((p > 0) & (p < 1)).all()
