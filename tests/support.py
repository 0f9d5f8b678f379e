"""Plain helpers the test modules share (imported as `from support import ...`; pytest puts
tests/ on sys.path, see [tool.pytest.ini_options] pythonpath). Fixtures live in conftest.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

if TYPE_CHECKING:
    from powerlens.segmentation.profiles import LookBack

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("POWERLENS_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
PROJECT_FILES = ["dvc.yaml", "params.yaml", "playbook.yaml", "pyproject.toml", ".dvcignore", ".gitignore"]
PROJECT_DIRS = ["pipelines", "src", "notebooks"]


def real_data(*parts: str) -> Path:
    """A path in the real-data folder; missing data fails in CI and skips elsewhere."""
    path = REAL_DATA.joinpath(*parts)
    if not path.exists():
        message = f"real data not found at {path} (set POWERLENS_REAL_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def run(cmd, cwd, env):
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _merge(base: dict, update: dict) -> dict:
    for k, v in update.items():
        base[k] = _merge(base.get(k, {}), v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return base


def project_copy(project: Path, key_file: Path, params_update: dict) -> dict:
    """A copy of the project (git + dvc initialised, params overridden) and the environment
    to run it with its own MLflow store and pseudonym key."""
    import yaml

    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, project / name)
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, project / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", ".ipynb_checkpoints"))
    params = _merge(yaml.safe_load((project / "params.yaml").read_text()), params_update)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
           "POWERLENS_ROOT": str(project), "POWERLENS_KEY_FILE": str(key_file),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    run(["git", "init", "-q"], project, env)
    dvc = [sys.executable, "-m", "dvc"]
    run(dvc + ["init", "-q"], project, env)
    run(dvc + ["config", "core.analytics", "false"], project, env)
    run(["git", "add", "-A"], project, env)
    run(["git", "commit", "-qm", "init"], project, env)
    return env


# --------------------------------------------------------------------------- the report's data

NOTEBOOK = ROOT / "notebooks/reports/strategy_report.py"
PERIOD = "2026-10"
SECTIONS = [  # the English titles of the report's numbered sections
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
# their heading ids, the same in every language (the contents and the summary link to them)
SECTION_IDS = ["sec-kpis", "sec-pareto", "sec-tiers", "sec-big", "sec-shapes", "sec-risks", "sec-plan",
               "sec-review", "sec-health"]


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
        # the escalation steps' and the re-inspection's columns
        "arrears_amount": rng.uniform(0, 2e3, n), "arrears_31_60d": [50.0 if i % 7 == 1 else 0.0 for i in range(n)],
        "arrears_61_90d": [80.0 if i % 11 == 2 else 0.0 for i in range(n)],
        "arrears_over_90d": [120.0 if i % 13 == 3 else 0.0 for i in range(n)],
        "bills_over_30dpd": [4 if i % 13 == 3 else 0 for i in range(n)],
        "theft_confirmed_before": [1 if i % 17 == 5 else 0 for i in range(n)], "inspections_12m": 0,
        "share_counter": [0.8 if i % 9 == 4 else 0.0 for i in range(n)],
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
        "over_contract": [i in (40, 41) for i in range(n)],
        "over_contract_kva": [30.0 if i == 40 else 12.0 if i == 41 else 0.0 for i in range(n)],
        "over_contract_reason": ["peak 130 kVA over a contracted 100 kVA" if i in (40, 41) else "" for i in range(n)],
        "efficiency_annual_saving": [5000.0 - 300 * i if i < 6 else np.nan for i in range(n)],
        "efficiency_reason": ["load factor 22% against its industry's median 38%" if i < 6 else "" for i in range(n)],
        # the ToU offer: every fifth customer saves, the others would pay more or are on ToU
        "tou_expected_saving": [150.0 + 10 * i if i % 5 == 3 else -20.0 if i % 5 == 4 else np.nan for i in range(n)],
        "tou_load_factor_gain": [0.04 if i % 5 == 3 else np.nan for i in range(n)],
        "tou_reason": ["ToU saves 150 a year (12.0% of 1,250) if it moves 15% of its peak load" if i % 5 == 3
                       else "already on a ToU tariff" for i in range(n)],
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


# --------------------------------------------------------------------------- importers

def render_period(data: Path, out: Path, period: str = PERIOD, region: str | None = None, top_n: int = 5,
                  min_group_size: int = 10, notebook: Path = NOTEBOOK, playbook: Path | None = None) -> Path:
    """The report of a period on a data folder, as `powerlens report` makes it: the period's
    snapshot first (when it has none), then the render."""
    from powerlens.config import load_config
    from powerlens.jobs import snapshot
    from powerlens.paths import DataPaths
    from powerlens.report.rendering import render
    from powerlens.snapshots import snapshot_exists

    paths = DataPaths(Path(data))
    if not snapshot_exists(paths.snapshot_dir(period)):
        cfg = load_config(ROOT / "params.yaml").replace("report", top_n=top_n, min_group_size=min_group_size)
        snapshot.run([period], cfg, data=paths, playbook=playbook or ROOT / "playbook.yaml", echo=lambda _m: None)
    return render(period, paths.snapshot_dir(period), out, notebook, region=region)


def written_strings(out: Path) -> set[str]:
    """Every text value in every file an import wrote (parquet columns, validation.json)."""
    values: set[str] = set()
    for path in out.rglob("*.parquet"):
        frame = pd.read_parquet(path)
        values |= set(map(str, frame.columns))
        for col in frame.columns:
            s = frame[col]
            if isinstance(s.dtype, pd.CategoricalDtype):
                values |= set(map(str, s.cat.categories))
            elif s.dtype == object or str(s.dtype) in ("str", "string"):
                values |= set(s.dropna().astype(str).unique())
    values.add((out / "validation.json").read_text())
    return values


def assert_no_raw_ids(out: Path, raw_ids: set[str]) -> None:
    found = written_strings(out)
    blob = "\n".join(v for v in found if len(v) > 200)  # validation.json
    short = {v for v in found if len(v) <= 200}
    leaked = (raw_ids & short) | {r for r in raw_ids if r in blob}
    assert not leaked, f"raw ids written: {sorted(leaked)[:5]}"


def assert_reconciled(summary: dict) -> None:
    assert summary["reconciled"]
    for table, rep in summary["tables"].items():
        assert rep["rows_in"] == rep["accepted"] + rep["quarantined"], table
        assert rep["quarantined"] == sum(rep["reasons"].values()), table


# --------------------------------------------------------------------------- a malformed daily CSV

def write_daily_csv(src, daily, bad_rows):
    frame = pd.concat([daily, pd.DataFrame(bad_rows)], ignore_index=True)
    frame.to_csv(src / "readings_daily.csv", index=False)
    return frame


# --------------------------------------------------------------------------- risk

def acorn_like(n=900, seed=3):
    """Three classes from consumption with a threshold and an interaction, plus a tariff flag
    that would leak the class (as the London trial's tariff arm could)."""
    rng = np.random.default_rng(seed)
    kwh = rng.lognormal(8, 0.5, n)
    winter = rng.normal(1.0, 0.2, n)
    cls = np.where(kwh > np.exp(8.3), "Affluent", np.where(winter > 1.05, "Adversity", "Comfortable"))
    noisy = rng.random(n) < 0.15
    cls[noisy] = rng.choice(["Affluent", "Adversity", "Comfortable"], noisy.sum())
    feats = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "as_of": pd.Timestamp("2014-03-01"),
                          "kwh_365d": kwh, "winter_index": winter, "daily_cv": rng.random(n),
                          "tou_tariff": (cls == "Affluent").astype(float)})
    return feats, pd.Series(cls)


# --------------------------------------------------------------------------- segmentation

def random_look_back(n_customers: int, days: pd.DatetimeIndex, rng) -> LookBack:
    from powerlens.segmentation.profiles import LookBack

    daily = rng.gamma(5.0, 2.0, (n_customers, len(days))).astype(np.float32)
    hourly = rng.gamma(5.0, 0.1, (2, len(days), 24)).astype(np.float32)
    return LookBack(pd.Index([f"c{i}" for i in range(n_customers)]), days, daily, np.array([0, 1]), hourly)
