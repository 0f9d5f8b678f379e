"""strategy: playbook validation, tier strategies, capped and reasoned action plans."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from powerlens import strategy

PLAYBOOK = Path(__file__).resolve().parents[1] / "playbook.yaml"


@pytest.fixture()
def playbook() -> dict:
    return strategy.load_playbook(PLAYBOOK)


def _segments(n: int = 30) -> pd.DataFrame:
    ids = [f"c{i:04d}" for i in range(n)]
    return pd.DataFrame({
        "customer_id": ids,
        "value_score": [1 - i / n for i in range(n)],
        "value_tier": ["high" if i < 10 else "medium" if i < 20 else "low" for i in range(n)],
        "credit_grade": ["ABC"[i % 3] for i in range(n)],
        "big_customer": [i < 3 for i in range(n)],
        "latent_big_customer": [i % 5 == 4 for i in range(n)],
        "latent_big_rank": [float(i) if i % 5 == 4 else float("nan") for i in range(n)],
        "latent_big_reason": [f"trend +{i}%/yr; capacity increase requested" for i in range(n)],
        "revenue_12m": [1000.0 * (n - i) for i in range(n)],
        "customer_class": ["commercial" if i % 2 else "residential" for i in range(n)],
        "region": ["north" if i % 2 else "south" for i in range(n)],
    })


def _scores(segments: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for task in strategy.TASKS:
        for i, cid in enumerate(segments["customer_id"]):
            rows.append({"customer_id": cid, "task": task, "score": (i * 37 % 100) / 100,
                         "reasons": f"{task} reason for {cid} (+)"})
    out = pd.DataFrame(rows)
    out["rank"] = out.groupby("task")["score"].rank(ascending=False, method="first").astype(int)
    return out


def _features(segments: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": segments["customer_id"], "load_factor": 0.5})


def _with_capacities(playbook: dict, capacity: int) -> dict:
    pb = copy.deepcopy(playbook)
    for action in pb["actions"]:
        action["capacity"] = capacity
    return pb


def test_tier_strategy_covers_all_nine_cells(playbook):
    seen = {}
    for tier in ("high", "medium", "low"):
        for grade in ("A", "B", "C"):
            name = strategy.tier_strategy(tier, grade, playbook)
            assert isinstance(name, str) and name.strip()
            seen[(tier, grade)] = name
    assert "VIP" in seen[("high", "A")]
    assert "ToU" in seen[("medium", "A")] and "ToU" in seen[("medium", "B")]
    assert all("prepaid" in seen[(t, "C")].lower() for t in ("high", "medium", "low"))
    assert "digital" in seen[("low", "A")].lower()
    with pytest.raises(ValueError, match=r"tiers\.high\.D"):
        strategy.tier_strategy("high", "D", playbook)


def test_plan_respects_capacities_and_ranks(playbook):
    segments = _segments()
    scores = _scores(segments)
    plan = strategy.plan_actions(segments, scores, _with_capacities(playbook, 3), _features(segments))
    assert list(plan.columns) == ["customer_id", "action", "rank", "priority_score", "reasons"]
    counts = plan.groupby("action").size()
    assert (counts <= 3).all()
    assert counts["inspection"] == 3  # plenty of theft scores >= 0.3
    assert not plan.duplicated(["customer_id", "action"]).any()
    for _, rows in plan.groupby("action"):
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
        assert rows["priority_score"].is_monotonic_decreasing

    # capacities of the real playbook: no action exceeds its own cap
    full = strategy.plan_actions(segments, scores, playbook, _features(segments))
    caps = {a["name"]: a["capacity"] for a in playbook["actions"]}
    for name, n in full.groupby("action").size().items():
        assert n <= caps[name]


def test_plan_conditions_and_reasons(playbook):
    segments = _segments()
    scores = _scores(segments)
    plan = strategy.plan_actions(segments, scores, playbook, _features(segments))
    by_id = segments.set_index("customer_id")

    inspection = plan[plan["action"] == "inspection"]
    theft = scores[scores["task"] == "theft"].set_index("customer_id")
    assert (theft.loc[inspection["customer_id"], "score"] >= 0.3).all()
    assert inspection["reasons"].str.contains("theft reason for").all()
    # expected revenue ranking: score x revenue_12m
    first = inspection.iloc[0]
    expected = theft.loc[first["customer_id"], "score"] * by_id.loc[first["customer_id"], "revenue_12m"]
    assert first["priority_score"] == pytest.approx(expected)

    retention = plan[plan["action"] == "retention_contact"]
    assert set(by_id.loc[retention["customer_id"], "value_tier"]) <= {"high", "medium"}

    visits = plan[plan["action"] == "development_visit"]
    assert len(visits) == segments["latent_big_customer"].sum()
    assert visits["reasons"].str.startswith("trend +").all()

    vip = plan[plan["action"] == "vip_account_manager"]
    assert set(by_id.loc[vip["customer_id"], "value_tier"]) == {"high"}
    assert set(by_id.loc[vip["customer_id"], "credit_grade"]) <= {"A", "B"}
    assert vip["reasons"].str.contains("value tier high").all()
    assert plan["reasons"].str.len().gt(0).all()


def test_feature_columns_come_from_features(playbook):
    segments = _segments()
    scores = _scores(segments)
    features = pd.DataFrame({
        "customer_id": list(segments["customer_id"]) * 2,
        "as_of": [pd.Timestamp("2026-08-01")] * 30 + [pd.Timestamp("2026-11-01")] * 30,
        "load_factor": [0.9] * 30 + [0.1 if i % 4 == 1 else 0.8 for i in range(30)],
    })
    plan = strategy.plan_actions(segments, scores, playbook, features=features)
    audits = plan[plan["action"] == "efficiency_audit"]
    expected = {f"c{i:04d}" for i in range(30) if i % 4 == 1}  # odd -> commercial
    assert set(audits["customer_id"]) == expected
    assert audits["reasons"].str.contains("load_factor 0.10").all()
    with pytest.raises(ValueError, match="load_factor"):
        strategy.plan_actions(segments, scores, playbook)  # no features: column missing


def test_empty_scores_still_plans_segment_actions(playbook):
    segments = _segments()
    empty = pd.DataFrame(columns=["customer_id", "task", "score", "rank", "reasons"])
    pb = copy.deepcopy(playbook)
    pb["actions"] = [a for a in pb["actions"] if a["name"] != "efficiency_audit"]
    plan = strategy.plan_actions(segments, empty, pb)
    assert not plan["action"].isin(["inspection", "retention_contact", "collection_plan"]).any()
    assert (plan["action"] == "development_visit").any()

    churn_only = _scores(segments).query("task == 'churn'")  # typed scores, no theft/arrears
    plan = strategy.plan_actions(segments, churn_only, pb)
    assert "retention_contact" in set(plan["action"])
    assert not plan["action"].isin(["inspection", "collection_plan"]).any()


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda pb: pb.pop("actions"), "actions"),
        (lambda pb: pb["tiers"]["medium"].pop("B"), "tiers.medium.B"),
        (lambda pb: pb["actions"][0].update(capacity=-1), "capacity"),
        (lambda pb: pb["actions"][0].update(capacity="fifty"), "capacity"),
        (lambda pb: pb["actions"][1]["when"].update(task="fraud"), "when.task"),
        (lambda pb: pb["actions"][2].update(colour="red"), "colour"),
        (lambda pb: pb["actions"][3]["when"].update(value_tier="high"), "when.value_tier"),
        (lambda pb: pb["actions"][4].pop("rank_by"), "rank_by"),
        (lambda pb: pb["actions"][5].update(name=pb["actions"][0]["name"]), "name"),
    ],
)
def test_malformed_playbook_names_the_key(tmp_path, playbook, mutate, key):
    bad = copy.deepcopy(playbook)
    mutate(bad)
    path = tmp_path / "playbook.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ValueError) as err:
        strategy.load_playbook(path)
    assert key in str(err.value)
    with pytest.raises(ValueError):
        strategy.plan_actions(_segments(), _scores(_segments()), bad)
