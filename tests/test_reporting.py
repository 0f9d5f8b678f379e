"""reporting: the strategy report renders to offline HTML + ipynb + actions.csv + index.

Runs the real notebook with papermill and nbconvert on a small hand-built data folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pandas as pd
import pytest

from powerlens import reporting

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks/reports/strategy_report.py"
PERIOD = "2026-10"
SECTIONS = [
    "1. KPIs",
    "2. Pareto curve of revenue",
    "3. Value x credit tier matrix",
    "4. Big and latent-big customers",
    "5. Load-shape segments",
    "6. Risk lists",
    "7. Action plan",
    "8. How the last actions worked",
    "9. Model health",
]


def build_data(data: Path, n: int = 40, seed: int = 0) -> Path:
    """A small data folder following the pipeline's contract (theft scores/model left out)."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i:04d}{'ab' * 4}" for i in range(n)]
    classes = ["residential", "commercial", "general_industrial", "large_industrial",
               "agricultural", "public"]
    customers = pd.DataFrame({
        "customer_id": ids,
        "customer_class": [classes[i % len(classes)] for i in range(n)],
        "region": ["north" if i < 26 else "south" for i in range(n)],
        "industry": "retail",
        "voltage_kv": 10.0,
        "capacity_kva": rng.uniform(50, 800, n).round(),
        "two_part_tariff": [i % 4 == 0 for i in range(n)],
        "tou_tariff": [i % 2 == 0 for i in range(n)],
        "prepaid_meter": [i % 7 == 0 for i in range(n)],
        "start_date": pd.Timestamp("2020-01-01"),
        "end_date": [pd.Timestamp("2026-10-15") if i in (3, 17) else pd.NaT for i in range(n)],
    })
    periods = [str(p) for p in pd.period_range("2025-08", "2026-10", freq="M")]
    bills, payments = [], []
    for i, cid in enumerate(ids):
        for p in periods:
            start = pd.Period(p, freq="M").end_time.normalize() + pd.Timedelta(days=1)
            kwh = float(rng.gamma(2, 200 * (1 + i)))
            bill = {"customer_id": cid, "bill_id": f"{cid}-{p}", "period": p, "kwh": kwh,
                    "amount": round(kwh * 0.6, 2), "bill_date": start,
                    "due_date": start + pd.Timedelta(days=20)}
            bills.append(bill)
            if i % 9 == 8:
                continue  # never pays: arrears
            late = 30 if i % 5 == 0 else -3
            payments.append({"customer_id": cid, "bill_id": bill["bill_id"],
                             "paid_on": bill["due_date"] + pd.Timedelta(days=late),
                             "amount": bill["amount"], "channel": "app"})
    events = pd.DataFrame({
        "customer_id": [ids[i] for i in (1, 2, 5, 8, 9)],
        "ts": pd.to_datetime(["2026-10-03", "2026-10-09", "2026-09-12", "2026-10-20", "2026-06-01"]),
        "kind": ["inspection", "inspection", "inspection", "complaint", "inspection"],
        "outcome": ["theft_confirmed", "no_issue", "theft_confirmed", "", "theft_confirmed"],
    })
    clean = data / "clean"
    clean.mkdir(parents=True)
    customers.to_parquet(clean / "customers.parquet")
    pd.DataFrame(bills).to_parquet(clean / "bills.parquet")
    pd.DataFrame(payments).to_parquet(clean / "payments.parquet")
    events.to_parquet(clean / "service_events.parquet")

    (data / "features").mkdir()
    pd.DataFrame({
        "customer_id": ids, "as_of": pd.Timestamp("2026-11-01"),
        "revenue_12m": rng.uniform(1e3, 1e5, n), "load_factor": rng.uniform(0.1, 0.9, n),
    }).to_parquet(data / "features/features.parquet")
    (data / "features/manifest.json").write_text(json.dumps(
        {"training_cutoffs": ["2026-05-01", "2026-08-01"], "scoring_cutoff": "2026-11-01"}))

    value = np.linspace(1, 0, n)
    segments = pd.DataFrame({
        "customer_id": ids,
        "value_score": value,
        "current_value": value,
        "potential_value": rng.uniform(0, 1, n),
        "value_tier": ["high" if v >= 0.8 else "medium" if v >= 0.5 else "low" for v in value],
        "credit_grade": ["A" if i % 3 else "C" for i in range(n)],
        "big_customer": [i < 12 for i in range(n)],
        "latent_big_customer": [i in (20, 22, 25, 31) for i in range(n)],
        "latent_big_rank": [float(i) if i in (20, 22, 25, 31) else np.nan for i in range(n)],
        "latent_big_reason": ["consumption trend +35%/yr; capacity increase requested"] * n,
        "load_shape_cluster": [i % 3 for i in range(n)],
        "load_shape": [["evening peak", "daytime commercial", "flat three-shift"][i % 3]
                       for i in range(n)],
        "revenue_12m": 1e5 * value + 100,
        "customer_class": customers["customer_class"],
        "region": customers["region"],
    })
    (data / "segments").mkdir()
    segments.to_parquet(data / "segments/segments.parquet")
    hours = np.arange(24)
    profiles = pd.concat([
        pd.DataFrame({"load_shape": shape, "axis": "hour", "x": hours,
                      "mean": 1 + 0.5 * np.sin((hours - k * 4) / 24 * 2 * np.pi),
                      "p10": 0.6, "p90": 1.6, "n_customers": count})
        for k, (shape, count) in enumerate(
            [("evening peak", 14), ("daytime commercial", 13), ("flat three-shift", 4)])
    ])
    profiles.to_parquet(data / "segments/profiles.parquet")
    pd.DataFrame({"family": "intraday", "algorithm": ["kmeans", "kmeans", "gmm"], "k": [3, 4, 3],
                  "silhouette": [0.41, 0.35, 0.38], "davies_bouldin": [0.9, 1.1, 1.0],
                  "calinski_harabasz": [300.0, 250.0, 280.0], "mia": [0.2, 0.19, 0.21], "cdi": [0.5, 0.6, 0.55],
                  "mean_rank": [1.2, 2.4, 2.0], "stability_ari": [0.91, 0.7, None],
                  "chosen": [True, False, False]}).to_csv(data / "segments/clustering_candidates.csv", index=False)
    (data / "segments/metrics.json").write_text(json.dumps(
        {"pareto_top20_share": 0.5, "big_customers": 12, "big_revenue_share": 0.6, "chosen_k": 3,
         "load_shape_families": {"daily": {"algorithm": "kmeans", "k": 3}}}))

    scores = []
    for task in ("churn", "arrears"):  # no theft scores: the report must say so
        s = rng.uniform(0, 1, n)
        order = np.argsort(-s)
        for rank, j in enumerate(order, start=1):
            scores.append({"customer_id": ids[j], "task": task, "score": float(s[j]),
                           "rank": rank, "reasons": f"{task}-reason-{j} (+); on-time payment rate (-)"})
    (data / "scores").mkdir()
    pd.DataFrame(scores).to_parquet(data / "scores/scores.parquet")

    for task in ("churn", "arrears"):
        (data / "models" / task).mkdir(parents=True)
        (data / "models" / task / "metrics.json").write_text(json.dumps({
            "task": task, "champion_family": "lightgbm",
            "families": {
                "lightgbm": {"roc_auc": 0.81, "pr_auc": 0.3, "lift_at_10pct": 3.1, "brier": 0.05},
                "logistic": {"roc_auc": 0.74, "pr_auc": 0.2, "lift_at_10pct": 2.4, "brier": 0.06},
            },
            "decision": "lightgbm stays champion", "n_train": 1000, "n_valid": 200,
        }))
    return data


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    data = build_data(base / "data")
    out = base / "reports"
    html_path = reporting.render(PERIOD, data, out_root=out, top_n=5, min_group_size=10)
    return {"data": data, "out": out, "html_path": html_path,
            "html": html_path.read_text(encoding="utf-8")}


def test_render_writes_all_outputs(rendered):
    out_dir = rendered["out"] / PERIOD
    assert rendered["html_path"] == out_dir / "strategy_report.html"
    nb = nbformat.read(out_dir / "strategy_report.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert not (out_dir / "strategy_report.failed.ipynb").exists()

    actions = pd.read_csv(out_dir / "actions.csv")
    assert list(actions.columns) == ["customer_id", "action", "rank", "priority_score", "reasons", "holdout"]
    assert {"development_visit", "vip_account_manager", "retention_contact"} <= set(actions["action"])
    assert "inspection" not in set(actions["action"])  # no theft scores
    visits = actions[actions["action"] == "development_visit"]
    assert visits["reasons"].str.contains("capacity increase requested").all()

    index = (rendered["out"] / "index.html").read_text()
    assert f'href="{PERIOD}/strategy_report.html"' in index


def test_html_has_sections_no_code_and_embedded_images(rendered):
    page = rendered["html"]
    for heading in SECTIONS:
        assert heading in page, heading
    classes = re.findall(r'class="([^"]*)"', page)
    code_cells = [c for c in classes if "jp-CodeCell" in c]
    assert len(code_cells) >= 9 and all("jp-mod-noInput" in c for c in code_cells)
    # the only input areas are the markdown cells' rendered text
    assert sum("jp-InputArea" in c for c in classes) == sum("jp-MarkdownCell" in c for c in classes)
    joined = " ".join(classes)
    assert "jp-InputPrompt" not in joined and "jp-OutputPrompt" not in joined
    assert "highlight" not in joined and "jp-CodeMirrorEditor" not in joined
    assert "import matplotlib" not in page and "reporting.monthly_kpis" not in page
    assert len(re.findall(r'src="data:image/png;base64,', page)) >= 3  # KPIs, Pareto, shapes
    assert "no scores for theft yet" in page
    comparison = page[page.index("How the shapes were chosen"):]
    assert all(w in comparison for w in ("davies_bouldin", "stability (ARI)", "0.91", "chosen"))
    assert "no model metrics for theft yet" in page
    assert "Traceback" not in page


def test_html_reads_offline(rendered):
    page = rendered["html"]
    external = re.findall(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', page, flags=re.I)
    assert external == []
    assert not re.search(r"<script[^>]+src=", page, flags=re.I)
    assert "@import" not in page and "cdnjs" not in page and "unpkg" not in page
    assert "http" not in page.lower()
    assert 'alt="Pareto: top 20% =' in page


def test_privacy_suppression(rendered):
    page = rendered["html"]
    # the tier matrix has cells below 10 customers and the 4-customer load shape is hidden
    assert "&lt;10" in page
    assert "flat three-shift (n=" not in page
    assert "1 shape(s) with fewer than 10 customers not shown" in page


def test_rerender_is_deterministic_and_region_is_indexed(rendered):
    data, out = rendered["data"], rendered["out"]
    files = [out / PERIOD / name for name in
             ("strategy_report.html", "strategy_report.ipynb", "actions.csv")] + [out / "index.html"]
    before = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files}
    again = reporting.render(PERIOD, data, out_root=out, top_n=5, min_group_size=10)
    assert again.read_text(encoding="utf-8") == rendered["html"]
    # re-rendering an unchanged period changes nothing: same bytes, files not even rewritten
    assert {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files} == before
    assert sorted(p.name for p in (out / PERIOD).iterdir()) == [
        "actions.csv", "strategy_report.html", "strategy_report.ipynb"]

    north = reporting.render(PERIOD, data, out_root=out, region="north", top_n=5, min_group_size=10)
    assert north == out / PERIOD / "north" / "strategy_report.html"
    north_ids = set(pd.read_parquet(data / "clean/customers.parquet").query("region == 'north'")["customer_id"])
    actions = pd.read_csv(north.parent / "actions.csv")
    assert len(actions) and set(actions["customer_id"]) <= north_ids
    index = (out / "index.html").read_text()
    assert f'href="{PERIOD}/north/strategy_report.html"' in index
    assert f'href="{PERIOD}/strategy_report.html"' in index


def test_kpis_use_only_data_before_period_end(rendered):
    kpis = reporting.monthly_kpis(rendered["data"], "2026-09").set_index("period")
    assert kpis.index[-1] == "2026-09" and len(kpis) == 12
    assert kpis.loc["2026-09", "thefts_confirmed"] == 1
    later = reporting.monthly_kpis(rendered["data"], "2026-10").set_index("period")
    assert later.loc["2026-10", "thefts_confirmed"] == 1
    assert later.loc["2026-10", "accounts_closed"] == 2
    assert 0 < later.loc["2026-09", "on_time_rate"] < 1
    assert later.loc["2026-10", "arrears_amount"] > later.loc["2026-01", "arrears_amount"] > 0
    # a period's snapshot is as of its own end; a period the data does not cover ends at the data
    assert reporting.snapshot_cutoff(rendered["data"], "2026-09")[0] == pd.Timestamp("2026-10-01")
    cutoff, note = reporting.snapshot_cutoff(rendered["data"], "2027-01")
    assert cutoff == pd.Timestamp("2026-11-01") and "data ends before the end of 2027-01" in note


def test_render_with_missing_inputs_notes_each_section(tmp_path):
    data = tmp_path / "empty"
    data.mkdir()
    html_path = reporting.render(PERIOD, data, out_root=tmp_path / "reports")
    page = html_path.read_text(encoding="utf-8")
    for note in ("no customers / bills / payments / service events tables yet",
                 "no bills yet", "no segments yet", "no scores for churn yet",
                 "no model metrics yet"):
        assert note in page, note
    assert pd.read_csv(html_path.parent / "actions.csv").empty


def test_failing_notebook_raises_and_keeps_it(tmp_path):
    nb = jupytext.read(NOTEBOOK)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell('raise RuntimeError("deliberate report failure")'))
    broken = tmp_path / "broken_report.py"
    jupytext.write(nb, broken, fmt="py:percent")
    data = build_data(tmp_path / "data")
    with pytest.raises(reporting.ReportFailed) as err:
        reporting.render(PERIOD, data, out_root=tmp_path / "reports", notebook=broken)
    kept = err.value.notebook
    assert kept.exists() and str(kept) in str(err.value)
    executed = nbformat.read(kept, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and "deliberate report failure" in errors[0]["evalue"]
    assert not (tmp_path / "reports" / PERIOD / "strategy_report.html").exists()


def notebook_failing_for(period: str, path: Path) -> Path:
    """A copy of the report notebook that fails, in its own code, for one period only."""
    nb = jupytext.read(NOTEBOOK)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
        f'if period == "{period}":\n    raise ValueError(f"no usable bills for {{period}}")'))
    jupytext.write(nb, path, fmt="py:percent")
    return path


def test_backfill_renders_the_other_periods_when_one_fails(tmp_path):
    data = build_data(tmp_path / "data")
    out = tmp_path / "reports"
    broken = notebook_failing_for("2026-07", tmp_path / "report_failing_in_july.py")
    lines = []
    result = reporting.backfill("2026-05", "2026-10", data, out_root=out, top_n=5, workers=2,
                                notebook=broken, progress=lines.append)

    good = ["2026-05", "2026-06", "2026-08", "2026-09", "2026-10"]
    assert [o.period for o in result.outcomes] == ["2026-05", *good[1:2], "2026-07", *good[2:]]
    assert result.rendered == good and result.failed == ["2026-07"] and not result.ok
    assert len(lines) == 6
    for period in good:
        folder = out / period
        assert {"strategy_report.html", "strategy_report.ipynb", "actions.csv"} <= {
            p.name for p in folder.iterdir()}
        assert not (folder / "strategy_report.failed.ipynb").exists()
    failed = next(o for o in result.outcomes if not o.ok)
    assert failed.failed_notebook == out / "2026-07" / "strategy_report.failed.ipynb"
    executed = nbformat.read(failed.failed_notebook, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["evalue"] == "no usable bills for 2026-07"
    assert not (out / "2026-07" / "strategy_report.html").exists()
    assert "ValueError: no usable bills for 2026-07" in failed.error

    summary = result.summary()
    assert "5 of 6 period(s) rendered" in summary
    assert "FAILED 2026-07" in summary and str(failed.failed_notebook) in summary

    index = (out / "index.html").read_text()
    for period in good:
        assert f'href="{period}/strategy_report.html"' in index
    assert "2026-07" not in index

    # a report uses only data before its period's end: the KPIs stop at the period
    nb = nbformat.read(out / "2026-05" / "strategy_report.ipynb", as_version=4)
    months = re.findall(r"\b(20\d\d-\d\d)\b(?!-\d)", json.dumps([c.get("outputs", []) for c in nb.cells]))
    assert months and max(months) == "2026-05"


def test_periods_between():
    assert reporting.periods_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert reporting.periods_between("2026-03", "2026-03") == ["2026-03"]
    with pytest.raises(ValueError):
        reporting.periods_between("2026-03", "2026-01")
    with pytest.raises(ValueError):
        reporting.periods_between("2026-3", "2026-05")


def test_migration_matrix_and_score_drift():
    from powerlens import reporting

    prev = pd.DataFrame({"customer_id": [f"c{i}" for i in range(30)],
                         "value_tier": ["high"] * 15 + ["low"] * 15, "credit_grade": "A"})
    cur = pd.DataFrame({"customer_id": [f"c{i}" for i in range(3, 33)],
                        "value_tier": ["high"] * 12 + ["low"] * 18, "credit_grade": ["A"] * 28 + ["C"] * 2})
    m = reporting.migration(cur, prev, min_group_size=10)
    assert m.loc["high/A", "high/A"] == 12 and m.loc["low/A", "low/A"] == 15
    assert m.loc["high/A", "left"] == "<10"  # three accounts closed: too few to show
    assert m.loc["new", "low/C"] == "<10"
    rng = np.random.default_rng(0)
    prev_s = pd.DataFrame({"customer_id": range(500), "task": "churn", "score": rng.beta(2, 20, 500)})
    same = prev_s.assign(score=rng.beta(2, 20, 500))
    shifted = prev_s.assign(score=rng.beta(6, 10, 500))
    assert reporting.score_drift(same, prev_s)["PSI"].iloc[0] < 0.1
    drift = reporting.score_drift(shifted, prev_s)
    assert drift["PSI"].iloc[0] > 0.2 and drift["reading"].iloc[0].startswith("shift")


# --------------------------------------------------------------------------- point in time

PAST = "2026-08"                      # its snapshot is as of 2026-09-01, the data ends 2026-11-01
PAST_END = pd.Timestamp("2026-09-01")
CHAMPIONS = {"churn": "logistic", "arrears": "histgb", "theft": "logistic"}


def small_data_dir(clean: Path, data: Path) -> Path:
    """A data folder on a clean folder with what the pipeline leaves for the report: the
    features stage's rows at two training cut-offs (all that predate the past period), the
    segment stage's load-shape choice and the train stage's champion family per task.
    Segments, scores and models at the past period's end are the report's own work."""
    from powerlens import features as F
    from powerlens.config import load_params

    data.mkdir(parents=True)
    (data / "clean").symlink_to(clean, target_is_directory=True)
    options = F.build_options(load_params(ROOT / "params.yaml")["features"])
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
    args = (PAST, ROOT / "playbook.yaml", ROOT / "params.yaml")
    now = reporting.period_state(full, *args)
    was = reporting.period_state(then, *args)

    for snap in ("current", "previous"):
        for part in ("features", "segments", "profiles", "scores"):
            pd.testing.assert_frame_equal(getattr(getattr(now, snap), part).reset_index(drop=True),
                                          getattr(getattr(was, snap), part).reset_index(drop=True),
                                          check_dtype=False, check_exact=True, obj=f"{snap}.{part}")
    pd.testing.assert_frame_equal(now.plan, was.plan, check_exact=True)
    pd.testing.assert_frame_equal(now.drift, was.drift, check_exact=True)
    playbook = reporting.strategy.load_playbook(ROOT / "playbook.yaml")
    review, readings = reporting.review_last_actions(now, playbook, None, 10)
    review_then, readings_then = reporting.review_last_actions(was, playbook, None, 10)
    pd.testing.assert_frame_equal(review, review_then, check_exact=True)
    assert readings == readings_then
    pd.testing.assert_frame_equal(reporting.monthly_kpis(full, PAST), reporting.monthly_kpis(then, PAST))

    # the period's own customers (open at its end, whatever came later), its own models (label
    # windows over before its end), a plan, a migration and a review of the previous plan
    assert (now.current.features["as_of"] == PAST_END).all()
    assert (now.previous.features["as_of"] == PAST_END - pd.DateOffset(months=1)).all()
    customers = pd.read_parquet(small_clean / "customers.parquet")
    open_then = customers[(customers["start_date"] < PAST_END)
                          & (customers["end_date"].isna() | (customers["end_date"] >= PAST_END))]
    assert set(now.current.segments["customer_id"]) == set(open_then["customer_id"].astype(str))
    assert {"churn", "arrears"} <= set(now.current.models)
    for model in now.current.models.values():
        assert model.source == "walk-forward" and model.train_cutoffs == ["2026-02-01"]
        assert pd.Timestamp(model.valid_cutoff) + pd.DateOffset(months=3) <= PAST_END
    arrears = now.current.scores[now.current.scores["task"] == "arrears"]
    assert len(arrears) == len(open_then) and arrears.nsmallest(5, "rank")["reasons"].str.len().gt(0).all()
    assert {"collection_plan", "development_visit"} <= set(now.plan["action"])
    assert len(reporting.migration(now.current.segments, now.previous.segments, 10)) >= 3
    assert set(now.drift["task"]) == set(now.current.models)
    collection = review[review["action"] == "collection_plan"].set_index("_group")
    assert collection.loc["acted", "customers"] != "0" and len(readings) >= 4


def test_split_prints_do_not_change_the_report(tmp_path):
    """The kernel may flush a cell's prints as one message or several (timing): the executed
    notebook keeps them as one stream, so a re-render of the same period is the same file."""
    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Plan of 2026-08-01:\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="collection_plan: ...\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="after\n")]
    whole = nbformat.v4.new_code_cell("print(...)")
    whole.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                            text="Plan of 2026-08-01:\ncollection_plan: ...\n"),
                     nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                     nbformat.v4.new_output("stream", name="stdout", text="after\n")]
    split = reporting._without_run_metadata(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "a.ipynb")
    once = reporting._without_run_metadata(nbformat.v4.new_notebook(cells=[whole]), tmp_path / "a.ipynb")
    assert nbformat.writes(split) == nbformat.writes(once)
    assert reporting.to_offline_html(split) == reporting.to_offline_html(once)
