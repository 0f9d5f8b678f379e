"""The regional stage on the small synthetic utility, as DVC runs it: it finds the generator's
injected growth event (a large new connection) as a step, and line loss is higher where the
generator's thieves stole more; on a load export alone (no customers) it still works; without a
region load it says what is missing in one line."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from powerlens.errors import MissingInput

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stage_run(small_clean, small_raw, small_truth, tmp_path_factory):
    from powerlens.jobs import regional as job
    from powerlens.regional import RegionalParams

    root = tmp_path_factory.mktemp("regional_stage")
    # theft scores as the score stage writes them (customer_id, task, score, rank): the generator's
    # thieves on top, so that the stage's per-region counts can be checked against the truth
    truth = pd.read_parquet(small_truth)
    score = np.where(truth["theft"], 0.9, 0.1)
    scores = pd.DataFrame({"customer_id": truth["customer_id"], "task": "theft", "score": score,
                           "rank": pd.Series(-score).rank(method="first").astype(int).to_numpy(),
                           "reasons": "", "model_version": 1})
    (root / "scores").mkdir()
    scores.to_parquet(root / "scores" / "scores.parquet")
    said: list[str] = []
    metrics = job.run(RegionalParams(theft_top_n=int(truth["theft"].sum())), data=small_clean,
                      out=root / "regional", scores=root / "scores", echo=said.append)
    manifest = json.loads((small_raw / "manifest.json").read_text())["region_load"]
    return root, metrics, manifest, said


def test_the_injected_growth_region_is_found(stage_run):
    root, metrics, manifest, said = stage_run
    event = manifest["growth_event"]
    steps = pd.read_parquet(root / "regional" / "steps.parquet")
    ups = steps[steps["step_kw"] > 0]
    assert event["region"] in set(ups["region"])
    found = ups[ups["region"] == event["region"]]
    near = found[(found["date"] - pd.Timestamp(event["date"])).abs() <= pd.Timedelta(days=7)]
    assert len(near) == 1, found
    assert near.iloc[0]["step_kw"] == pytest.approx(event["kw"], rel=0.3)
    # no other region steps up at that time
    other = ups[(ups["region"] != event["region"])
                & ((ups["date"] - pd.Timestamp(event["date"])).abs() <= pd.Timedelta(days=28))]
    assert other.empty
    assert any(f"step in {event['region']} on {event['date']}" in m for m in said)
    assert metrics["steps"] == len(steps) and event["region"] in metrics["step_regions"]


def test_line_loss_is_higher_where_the_thieves_are(stage_run):
    root, metrics, manifest, _ = stage_run
    monthly = pd.read_parquet(root / "regional" / "monthly.parquet")
    regions = pd.read_parquet(root / "regional" / "regions.parquet").set_index("region")
    last12 = sorted(monthly["month"].unique())[-12:]
    stolen = {r: sum(v[m] for m in last12) for r, v in manifest["stolen_kwh"].items()}
    energy = monthly[monthly["month"].isin(last12)].groupby("region")["energy_kwh"].sum()
    stolen_share = pd.Series({r: stolen[r] / energy[r] for r in stolen})
    loss = regions.loc[stolen_share.index, "line_loss_12m"]
    # line loss = technical loss + what the tampered meters did not record, region by region
    technical = pd.Series(manifest["technical_loss"])
    assert (loss - technical[loss.index] - stolen_share).abs().max() < 0.003
    assert loss.idxmax() == stolen_share.idxmax() and loss.idxmin() == stolen_share.idxmin()
    assert loss.rank().equals(stolen_share.rank())
    # next to the theft scores: the region with the most thieves has the most accounts on top
    truth_thieves = regions.loc[stolen_share.index, "theft_top_accounts"]
    assert truth_thieves[stolen_share.idxmax()] == truth_thieves.max() > 0
    assert regions.loc["total", "theft_top_accounts"] == truth_thieves.sum()
    assert metrics["line_loss_12m"] == pytest.approx({r: round(v, 4) for r, v in loss.items()}, abs=1e-4)


def test_the_tables_are_complete(stage_run, small_clean):
    root, metrics, _, _ = stage_run
    monthly = pd.read_parquet(root / "regional" / "monthly.parquet")
    load = pd.read_parquet(small_clean / "region_load.parquet")
    regions = sorted(load["region"].unique())
    months = load["ts"].dt.strftime("%Y-%m").unique()
    assert len(monthly) == (len(regions) + 1) * len(months)
    assert monthly["complete"].all() and monthly["line_loss"].notna().all()
    total = monthly[monthly["region"] == "total"].set_index("month")["energy_kwh"]
    by_region = monthly[monthly["region"] != "total"].groupby("month")["energy_kwh"].sum()
    pd.testing.assert_series_equal(total, by_region, check_names=False)
    assert monthly.loc[monthly["region"] != "total"].groupby("month")["coincident_peak_share"].sum().between(
        0.999, 1.001).all()
    # 24 months: the sensitivity and the year-on-year growth exist for the second year
    second_year = monthly[monthly["month"] >= months[12]]
    assert second_year[["kwh_per_hdd", "kwh_per_cdd", "growth_yoy_weather_normalized"]].notna().all().all()
    sales = pd.read_parquet(root / "regional" / "sales_by_class.parquet")
    assert {"residential", "commercial"} <= set(sales["customer_class"])
    billed = monthly[monthly["region"] != "total"].groupby("month")["billed_kwh"].sum()
    assert sales.groupby("month")["kwh"].sum().to_numpy() == pytest.approx(billed.to_numpy())
    written = json.loads((root / "regional" / "metrics.json").read_text())
    assert written == {k: v for k, v in metrics.items() if k != "seconds"}
    assert metrics["regions"] == len(regions) and metrics["months"] == len(months)


def test_a_load_export_alone_and_a_folder_without_load(small_clean, tmp_path):
    from powerlens.jobs import regional as job

    load_only = tmp_path / "load_only"
    load_only.mkdir()
    for table in ("region_load", "weather_daily"):
        shutil.copy(small_clean / f"{table}.parquet", load_only / f"{table}.parquet")
    metrics = job.run(data=load_only, out=tmp_path / "out", echo=lambda m: None)
    assert metrics["line_loss_12m"] == {} and metrics["sales_rows"] == 0 and metrics["regions"] == 4
    assert pd.read_parquet(tmp_path / "out" / "monthly.parquet")["energy_kwh"].gt(0).all()
    (load_only / "region_load.parquet").unlink()
    with pytest.raises(MissingInput, match="region_load.parquet"):
        job.run(data=load_only, out=tmp_path / "out2", echo=lambda m: None)
