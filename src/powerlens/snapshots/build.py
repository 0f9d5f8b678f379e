"""Everything a period's report shows, computed once by the pipeline (the `snapshot` stage).

`build_snapshot` takes the utility at the period's cut-off and a month earlier
(`state.PointInTime`), plans this period's actions, reviews last period's plan against what
happened since, and computes KPIs, the Pareto curve, migration inputs, model health and score
drift, for the whole utility and per region, and adds the regional load analysis and the load
forecasts as of the cut-off when the data has them (`snapshots.regional`). The report only
loads, formats and plots these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from powerlens import strategy
from powerlens.rules import period_bounds, previous_cutoff
from powerlens.segmentation import big_customer_changes
from powerlens.snapshots.industry import industry_tables
from powerlens.snapshots.kpis import monthly_kpis, pareto_table, revenue_by_customer
from powerlens.snapshots.regional import regional_tables
from powerlens.snapshots.service import service_tables
from powerlens.snapshots.state import CutoffState, PointInTime, read_json
from powerlens.snapshots.store import ALL_REGIONS

SCORE_COLUMNS = ["customer_id", "task", "score", "rank", "reasons"]
REVIEW_COLUMNS = ["action", "outcome", "group", "customers", "measured", "with outcome", "rate", "_group", "_n",
                  "_hits", "region"]
READING_COLUMNS = ["region", "action", "reading"]


def _no_review() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(columns=REVIEW_COLUMNS), pd.DataFrame(columns=READING_COLUMNS)


def _read(path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.exists() else None


def _with_region(frame: pd.DataFrame | None, region_of: pd.Series) -> pd.DataFrame | None:
    if frame is None:
        return None
    frame = frame.drop(columns=["region"], errors="ignore")
    return frame.assign(region=frame["customer_id"].astype(str).map(region_of).to_numpy())


def _scores_or_empty(state: CutoffState) -> pd.DataFrame:
    return state.scores if state.scores is not None else pd.DataFrame(columns=SCORE_COLUMNS)


def region_groups(region_of: pd.Series) -> dict[str, set[str] | None]:
    """'all' (no filter) and every region with its customer ids."""
    groups: dict[str, set[str] | None] = {ALL_REGIONS: None}
    for region, ids in region_of.groupby(region_of, sort=True):
        groups[str(region)] = set(ids.index)
    return groups


def _in(frame: pd.DataFrame, ids: set[str] | None) -> pd.DataFrame:
    return frame if ids is None else frame[frame["customer_id"].astype(str).isin(ids)]


def explained_customers(scores: pd.DataFrame, plan: pd.DataFrame, playbook: dict | None,
                        regions: dict[str, set[str] | None], top_n: int) -> dict[str, set[str]]:
    """Per task, the customers a report shows with reasons: the top_n of each region's risk
    list and every planned customer of an action driven by that task."""
    wanted: dict[str, set[str]] = {}
    for task, rows in scores.groupby("task"):
        ids: set[str] = set()
        for members in regions.values():
            ids |= set(_in(rows, members).nsmallest(top_n, "rank")["customer_id"].astype(str))
        wanted[str(task)] = ids
    for action in (playbook or {}).get("actions", []):
        task = action["when"].get("task")
        if task in wanted:
            wanted[task] |= set(plan.loc[plan["action"] == action["name"], "customer_id"].astype(str))
    return wanted


def score_drift(current: pd.DataFrame, previous: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Per task: mean score last period and now, and the population stability index (PSI) over
    deciles of last period's scores (> 0.2 is usually read as a real shift)."""
    rows = []
    for task, cur in current.groupby("task"):
        prev = previous[previous["task"] == task]
        if prev.empty:
            continue
        edges = np.unique(np.quantile(prev["score"], np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        p = np.clip(np.histogram(prev["score"], edges)[0] / len(prev), 1e-4, None)
        c = np.clip(np.histogram(cur["score"], edges)[0] / len(cur), 1e-4, None)
        psi = float(np.sum((c - p) * np.log(c / p)))
        rows.append({"task": task, "mean score last period": prev["score"].mean(),
                     "mean score now": cur["score"].mean(), "PSI": psi,
                     "reading": "shift: check the model" if psi > 0.2 else "stable"})
    return pd.DataFrame(rows, columns=["task", "mean score last period", "mean score now", "PSI", "reading"])


def _previous_scores(pit: PointInTime, current: CutoffState, previous: CutoffState) -> pd.DataFrame | None:
    """Last period's scores by the models that scored this period (drift is the customers'
    change, not the model's)."""
    from powerlens.risk.scoring import score_frame

    if current.models and all(m.model is not None for m in current.models.values()):
        if previous.features is None:
            return None
        if previous.scores is not None and all(previous.models.get(t) is m for t, m in current.models.items()):
            return previous.scores
        return pd.concat([score_frame(m.model, previous.features, t) for t, m in current.models.items()],
                         ignore_index=True)
    return _read(pit.paths.scores_previous_file)  # the score stage scored it with the champions


def model_health(pit: PointInTime, tasks: list[str], current: CutoffState) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Families x validation metrics per task (the last training), each task's promotion
    decision, and which model scored the cut-off."""
    rows, decisions = [], {}
    for task in tasks:
        metrics = read_json(pit.paths.model_metrics(task))
        if not metrics or metrics.get("skipped"):
            continue
        champion = metrics.get("champion_family")
        for family, values in sorted((metrics.get("families") or {}).items()):
            rows.append({"task": task, "family": family, "champion": "yes" if family == champion else "", **values})
        n = f"n_train={metrics.get('n_train', '?')}, n_valid={metrics.get('n_valid', '?')}"
        decisions[task] = f"{metrics['decision']} ({n})" if metrics.get("decision") else n
    sources = pd.DataFrame([{"task": m.task, "model": m.source, "family": m.family,
                             "trained on cut-offs": ", ".join(m.train_cutoffs), "validated on": m.valid_cutoff,
                             **{f"validation {k}": v for k, v in m.metrics.items()}}
                            for m in current.models.values()])
    return pd.DataFrame(rows), decisions, sources


def playbook_tables(playbook: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The playbook's actions and its strategy per value tier x credit grade, as tables."""
    from powerlens.rules import CREDIT_GRADES, VALUE_TIERS

    actions = pd.DataFrame([{"action": a["name"], "capacity": a["capacity"], "rank_by": a["rank_by"],
                             "task": a["when"].get("task"), "outcome": a.get("outcome"),
                             "holdout_share": float(a.get("holdout_share") or 0.0),
                             "description": a.get("description", ""),
                             "description_zh": a.get("description_zh", "")} for a in playbook["actions"]])
    tiers = pd.DataFrame([{"value_tier": t, "credit_grade": g, "strategy": strategy.tier_strategy(t, g, playbook),
                           "why": playbook["tiers"][t][g].get("why", ""),
                           "strategy_zh": playbook["tiers"][t][g].get("strategy_zh", ""),
                           "why_zh": playbook["tiers"][t][g].get("why_zh", "")}
                          for t in VALUE_TIERS for g in CREDIT_GRADES])
    return actions, tiers


def review_tables(pit: PointInTime, playbook: dict, previous: CutoffState, cutoff: pd.Timestamp,
                  regions: dict[str, set[str] | None], min_group_size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Last period's plan (its eligible customers in groups) against what happened since, per
    region; the playbook's outcome of each action measured over [previous cut-off, cut-off)."""
    if previous.segments is None or previous.features is None:
        return _no_review()
    groups = strategy.action_groups(previous.segments, _scores_or_empty(previous), playbook, previous.features,
                                    holdout_salt=str(previous.cutoff.date()))
    clean = pit.paths.clean
    customers = _read(clean / "customers.parquet")
    if not len(groups) or customers is None:
        return _no_review()
    open_ids = pd.Index(previous.features["customer_id"].astype(str))
    tables = {t: _read(clean / f"{t}.parquet") for t in ("bills", "payments", "service_events")}
    outcomes = {o: strategy.outcome_flags(o, open_ids, previous.cutoff, cutoff, customers, tables["bills"],
                                          tables["payments"], tables["service_events"])
                for o in sorted({a["outcome"] for a in playbook["actions"] if a.get("outcome")})}
    reviews, readings = [], []
    for region, ids in regions.items():
        region_open = open_ids if ids is None else open_ids[open_ids.isin(ids)]
        review = strategy.review_actions(_in(groups, ids), outcomes, playbook, region_open, min_group_size)
        reviews.append(review.assign(region=region))
        readings += [{"region": region, "action": a, "reading": r}
                     for a, r in strategy.review_readings(review, playbook).items()]
    return pd.concat(reviews, ignore_index=True)[REVIEW_COLUMNS], pd.DataFrame(readings, columns=READING_COLUMNS)


def kpi_tables(pit: PointInTime, period: str, regions: dict[str, set[str] | None]) -> tuple[pd.DataFrame, ...]:
    """Monthly KPIs, the Pareto curve and its summary for the utility and each region."""
    clean = pit.paths.clean
    tables = {t: _read(clean / f"{t}.parquet") for t in ("customers", "bills", "payments", "service_events")}
    kpis, curves, summaries = [], [], []
    for region, ids in regions.items():
        part = {t: None if f is None else _in(f, ids) for t, f in tables.items()}
        kpis.append(monthly_kpis(part["customers"], part["bills"], part["payments"], part["service_events"],
                                 period).assign(region=region))
        curve, summary = pareto_table(revenue_by_customer(part["bills"], period))
        curves.append(curve.assign(region=region))
        summaries.append({"region": region, **summary})
    return pd.concat(kpis, ignore_index=True), pd.concat(curves, ignore_index=True), pd.DataFrame(summaries)


def build_snapshot(period: str, pit: PointInTime, playbook: dict | None, top_n: int, min_group_size: int,
                   echo: Callable[[str], Any] = lambda _m: None) -> tuple[dict[str, pd.DataFrame | None], dict]:
    """The tables and manifest of a period's snapshot (see store.TABLES)."""
    from powerlens.risk.scoring import add_reasons

    _, period_end = period_bounds(period)
    cutoff, note = pit.cutoff_of(period_end, period)
    notes = [note]
    pit.prefetch_features([cutoff, previous_cutoff(cutoff)])  # both in one pass when they must be built
    current, previous = pit.state_at(cutoff), pit.state_at(previous_cutoff(cutoff))
    echo(f"{period}: cut-off {cutoff.date()}, previous {previous.cutoff.date()}")
    customers = _read(pit.paths.clean / "customers.parquet")
    region_of = (customers.assign(customer_id=customers["customer_id"].astype(str)).set_index("customer_id")["region"]
                 .astype(str) if customers is not None and "region" in customers else pd.Series(dtype=str))
    regions = region_groups(region_of)

    plan = pd.DataFrame(columns=strategy.ACTION_COLUMNS)
    plannable = playbook is not None and current.segments is not None
    if plannable:
        plan = strategy.plan_actions(current.segments, _scores_or_empty(current), playbook, current.features,
                                     holdout_salt=str(cutoff.date()), plan_date=cutoff)
    models = {t: m.model for t, m in current.models.items() if m.model is not None}
    if models and current.scores is not None:  # walk-forward scores: explain what the report lists
        wanted = explained_customers(current.scores, plan, playbook, regions, top_n)
        for task, model in models.items():
            current.scores = add_reasons(current.scores, model, current.features, wanted.get(task, set()), task=task)
        if plannable:  # the plan again, now with the reasons of its customers
            plan = strategy.plan_actions(current.segments, current.scores, playbook, current.features,
                                         holdout_salt=str(cutoff.date()), plan_date=cutoff)
    actions, tiers = playbook_tables(playbook) if playbook is not None else (None, None)
    review, readings = (review_tables(pit, playbook, previous, cutoff, regions, min_group_size)
                        if playbook is not None else _no_review())
    prev_scores = _previous_scores(pit, current, previous) if current.scores is not None else None
    drift = score_drift(current.scores, prev_scores) if prev_scores is not None and len(prev_scores) else None
    comparison, decisions, sources = model_health(pit, list(pit.cfg.train.tasks), current)
    kpis, pareto, pareto_summary = kpi_tables(pit, period, regions)
    candidates = pit.paths.clustering_candidates
    regional, regional_notes = regional_tables(pit.paths, cutoff, customers, current.scores, top_n, pit.cfg)
    audit = pit.cfg.segment.efficiency_audit
    big_changes = (big_customer_changes(previous.segments, current.segments)
                   if previous.segments is not None and current.segments is not None else None)
    industries = industry_tables(current.features, current.segments, min_group_size,
                                 audit.demand_charge_per_kw_month, audit.min_peers)
    service = service_tables(pit.light_clean(), period, cutoff, current.segments, pit.cfg.service, pit.cfg.payments)
    tables = {
        "features": current.features, "segments": _with_region(current.segments, region_of),
        "segments_previous": _with_region(previous.segments, region_of), "profiles": current.profiles,
        "clustering_candidates": pd.read_csv(candidates) if candidates.exists() else None,
        "scores": _with_region(current.scores, region_of), "plan": _with_region(plan, region_of),
        "actions": actions, "tier_strategies": tiers, "review": review, "review_readings": readings,
        "kpis": kpis, "pareto": pareto, "pareto_summary": pareto_summary, "model_comparison": comparison,
        "model_sources": sources, "drift": drift, "big_customer_changes": _with_region(big_changes, region_of),
        **industries, **service, **regional,
    }
    manifest = {"period": period, "cutoff": str(cutoff.date()), "previous_cutoff": str(previous.cutoff.date()),
                "notes": notes + current.notes, "previous_notes": previous.notes,
                "regions": [r for r in regions if r != ALL_REGIONS], "decisions": decisions,
                "top_n": int(top_n), "min_group_size": int(min_group_size),
                "playbook": playbook is not None, "regional_notes": regional_notes,
                "tou_load_shift": float(pit.cfg.segment.tou_offer.load_shift)}
    return tables, manifest
