"""snapshots.build: score drift, regions and who gets reasons, on small frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.snapshots.build import explained_customers, region_groups, score_drift
from powerlens.snapshots.store import ALL_REGIONS, load_snapshot, write_snapshot


def test_score_drift_is_small_for_the_same_scores_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    prev = pd.DataFrame({"task": "churn", "score": rng.uniform(0, 0.5, 2000)})
    same = prev.assign(score=rng.uniform(0, 0.5, 2000))
    shifted = prev.assign(score=rng.uniform(0.3, 0.9, 2000))
    assert score_drift(same, prev)["PSI"].iloc[0] < 0.1
    drift = score_drift(shifted, prev)
    assert drift["PSI"].iloc[0] > 0.2 and drift["reading"].iloc[0].startswith("shift")


def test_every_region_top_list_and_planned_customer_is_explained():
    region_of = pd.Series({"a": "north", "b": "north", "c": "south", "d": "south"})
    regions = region_groups(region_of)
    assert regions == {ALL_REGIONS: None, "north": {"a", "b"}, "south": {"c", "d"}}
    scores = pd.DataFrame({"customer_id": list("abcd"), "task": "churn", "rank": [1, 2, 3, 4]})
    plan = pd.DataFrame({"customer_id": ["d"], "action": ["retention_call"]})
    playbook = {"actions": [{"name": "retention_call", "when": {"task": "churn"}}]}
    wanted = explained_customers(scores, plan, playbook, regions, top_n=1)
    assert wanted == {"churn": {"a", "c", "d"}}  # a (all and north), c (south), d (planned)


def test_snapshot_round_trips_and_refuses_unknown_tables(tmp_path):
    import pytest

    from powerlens.errors import MissingInput

    table = pd.DataFrame({"customer_id": ["a"], "task": ["churn"], "score": [0.5]})
    write_snapshot(tmp_path / "2026-10", {"scores": table, "plan": None},
                   {"period": "2026-10", "cutoff": "2026-11-01", "previous_cutoff": "2026-10-01"})
    snap = load_snapshot(tmp_path / "2026-10")
    pd.testing.assert_frame_equal(snap.scores, table)
    assert snap.plan is None and snap.cutoff == pd.Timestamp("2026-11-01") and snap.manifest["tables"] == ["scores"]
    with pytest.raises(ValueError, match="not snapshot tables"):
        write_snapshot(tmp_path / "x", {"secrets": table}, {})
    with pytest.raises(MissingInput, match="powerlens snapshot --period 2026-09"):
        load_snapshot(tmp_path / "2026-09")
