"""The snapshot job on a past period: its own snapshot (features, segments, walk-forward
models, scores, plan, review, drift, KPIs) from the data before its end only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from powerlens.config import load_config
from powerlens.jobs import snapshot
from powerlens.paths import DataPaths
from powerlens.snapshots import ALL_REGIONS, TABLES, load_snapshot
from support import ROOT

pytestmark = pytest.mark.slow


PAST = "2026-08"                      # its snapshot is as of 2026-09-01, the data ends 2026-11-01


PAST_END = pd.Timestamp("2026-09-01")


CHAMPIONS = {"churn": "logistic", "arrears": "histgb", "theft": "logistic"}


def small_data_dir(clean: Path, data: Path) -> Path:
    """A data folder on a clean folder with what the pipeline leaves for the report: the
    features stage's rows at two training cut-offs (all that predate the past period), the
    segment stage's load-shape choice and the train stage's champion family per task.
    Segments, scores and models at the past period's end are the report's own work."""
    from powerlens import features as F

    data.mkdir(parents=True)
    (data / "clean").symlink_to(clean, target_is_directory=True)
    options = F.build_options(load_config(ROOT / "params.yaml").features.as_dict())
    cutoffs = [pd.Timestamp("2026-02-01"), pd.Timestamp("2026-05-01")]
    loaded = F.load_clean(clean)
    (data / "features").mkdir()
    pd.concat([F.build(loaded, c, **options) for c in cutoffs], ignore_index=True).to_parquet(
        data / "features" / "features.parquet", index=False)
    (data / "features" / "manifest.json").write_text(json.dumps({
        "training_cutoffs": [str(c.date()) for c in cutoffs], "scoring_cutoff": "2026-11-01",
        "horizon_months": 3}))
    (data / "segments").mkdir()
    (data / "segments" / "metrics.json").write_text(json.dumps({"load_shape_families": {
        "intraday": {"algorithm": "kmeans", "k": 4}, "daily": {"algorithm": "kmeans", "k": 4}}}))
    for task, family in CHAMPIONS.items():
        (data / "models" / task).mkdir(parents=True)
        (data / "models" / task / "metrics.json").write_text(json.dumps(
            {"task": task, "champion_family": family, "best_family": family}))
    return data


def truncated_clean(clean: Path, out: Path, end: pd.Timestamp) -> Path:
    """The clean tables as they were on `end`: nothing dated on or after it, and accounts that
    closed later still open."""
    out.mkdir(parents=True)
    dated = {"readings_daily": "ts", "readings_hourly": "ts", "bills": "bill_date",
             "payments": "paid_on", "service_events": "ts"}
    for path in clean.glob("*.parquet"):
        table = pd.read_parquet(path)
        if path.stem in dated:
            table = table[table[dated[path.stem]] < end]
        if path.stem == "customers":
            table = table[table["start_date"] < end]
            table["end_date"] = table["end_date"].where(table["end_date"] < end)
        table.to_parquet(out / path.name, index=False)
    return out


def test_past_period_has_its_own_snapshot_from_data_before_its_end(small_clean, tmp_path):
    """A past period's segments, scores, plan, review of the previous plan, drift and KPIs:
    computed at the period's end, and the same whether the data holds everything up to now or
    only what existed at the period's end."""
    import shutil

    full = small_data_dir(small_clean, tmp_path / "full")
    then = tmp_path / "then"
    then.mkdir()
    (then / "clean").symlink_to(truncated_clean(small_clean, tmp_path / "clean_then", PAST_END))
    for folder in ("features", "segments", "models"):  # the pipeline's files, as they are
        shutil.copytree(full / folder, then / folder)
    cfg = load_config(ROOT / "params.yaml")
    for data in (full, then):
        snapshot.run([PAST], cfg, data=DataPaths(data), playbook=ROOT / "playbook.yaml", echo=lambda _m: None)
    now, was = (load_snapshot(DataPaths(d).snapshot_dir(PAST)) for d in (full, then))

    # the same snapshot, made from other files (the fingerprint of its inputs differs)
    assert {k: v for k, v in now.manifest.items() if k != "inputs"} == {
        k: v for k, v in was.manifest.items() if k != "inputs"}
    for name in TABLES:
        if now.tables[name] is None:
            assert was.tables[name] is None, name
            continue
        pd.testing.assert_frame_equal(now.tables[name].reset_index(drop=True),
                                      was.tables[name].reset_index(drop=True),
                                      check_dtype=False, check_exact=True, obj=name)

    # the period's own customers (open at its end, whatever came later), its own models (label
    # windows over before its end), a plan, a migration and a review of the previous plan
    assert now.cutoff == PAST_END and (now.features["as_of"] == PAST_END).all()
    assert now.previous_cutoff == PAST_END - pd.DateOffset(months=1)
    customers = pd.read_parquet(small_clean / "customers.parquet")
    open_then = customers[(customers["start_date"] < PAST_END)
                          & (customers["end_date"].isna() | (customers["end_date"] >= PAST_END))]
    assert set(now.segments["customer_id"]) == set(open_then["customer_id"].astype(str))
    assert now.segments["region"].notna().all() and len(now.segments_previous) > 0
    sources = now.model_sources.set_index("task")
    assert {"churn", "arrears"} <= set(sources.index)
    assert (sources["model"] == "walk-forward").all() and (sources["trained on cut-offs"] == "2026-02-01").all()
    assert all(pd.Timestamp(v) + pd.DateOffset(months=3) <= PAST_END for v in sources["validated on"])
    arrears = now.scores[now.scores["task"] == "arrears"]
    assert len(arrears) == len(open_then) and arrears.nsmallest(5, "rank")["reasons"].str.len().gt(0).all()
    # every region's own top list is explained, not only the utility's
    for region, rows in arrears.groupby("region"):
        assert rows.nsmallest(5, "rank")["reasons"].str.len().gt(0).all(), region
    assert {"collection_plan", "development_visit"} <= set(now.plan["action"])
    assert set(now.drift["task"]) == set(sources.index)
    review = now.review[now.review["region"] == ALL_REGIONS]
    collection = review[review["action"] == "collection_plan"].set_index("_group")
    assert collection.loc["acted", "customers"] != "0"
    assert len(now.review_readings[now.review_readings["region"] == ALL_REGIONS]) >= 4
    assert set(now.review["region"]) == {ALL_REGIONS, *now.manifest["regions"]}
    kpis = now.kpis[now.kpis["region"] == ALL_REGIONS]
    assert kpis["period"].iloc[-1] == PAST and len(kpis) == 12
