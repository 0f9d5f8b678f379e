"""The report's tables, from a period's snapshot: region cuts, small-group suppression and
the shapes people read (tier matrix, migration, action summary). Presentation only: every
number comes from the snapshot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.rules import TIER_CELLS, VALUE_TIERS, probability_text


def for_region(frame: pd.DataFrame | None, region: str | None, column: str = "region") -> pd.DataFrame | None:
    """The rows of one region (all rows when region is None)."""
    if frame is None or region is None:
        return frame
    return frame[frame[column].astype(str) == str(region)]


def small_label(min_group_size: int) -> str:
    """What a suppressed cell shows."""
    return f"<{min_group_size}"


def count_text(n: float | None, min_group_size: int) -> str:
    """A count of customers as the report shows it: "<n" from 1 to min_group_size - 1."""
    if n is None or pd.isna(n):
        return "–"
    n = int(n)
    return small_label(min_group_size) if 0 < n < min_group_size else f"{n:,}"


def risk_list(task_scores: pd.DataFrame, top_n: int) -> pd.DataFrame:
    """The top_n riskiest customers of one task, by rank, with their probability as text and
    their reasons (indexed by customer)."""
    top = task_scores.sort_values(["rank", "customer_id"]).head(top_n)
    return pd.DataFrame({"rank": top["rank"].astype(int).to_numpy(),
                         "probability": top["score"].map(probability_text).to_numpy(),
                         "reasons": top["reasons"].fillna("").to_numpy()},
                        index=pd.Index(top["customer_id"].astype(str), name="customer_id"))


def priority_text(values: pd.Series, rank_by: str | None) -> pd.Series:
    """An action list's priority as people read it: money without decimals (expected revenue),
    scores in [0, 1] with two."""
    values = pd.to_numeric(values, errors="coerce")
    if rank_by is not None and "revenue" in str(rank_by):
        return values.map(lambda v: "–" if pd.isna(v) else f"{v:,.0f}")
    return values.map(lambda v: "–" if pd.isna(v) else f"{v:.2f}")


def model_comparison(comparison: pd.DataFrame, min_group_size: int) -> pd.DataFrame:
    """Families x validation metrics, with the counts of customers (positives, n) suppressed
    below min_group_size like every other count; metrics to three decimals."""
    shown = comparison.copy()
    for col in ("positives", "n"):
        if col in shown:
            shown[col] = shown[col].map(lambda v: count_text(v, min_group_size))
    return shown.set_index(["task", "family"]).round(3)


def score_drift(drift: pd.DataFrame) -> pd.DataFrame:
    """Score drift with mean probabilities as percentages (one decimal) and PSI to three."""
    shown = drift.copy()
    for col in ("mean score last period", "mean score now"):
        shown[col] = shown[col].map(lambda v: "–" if pd.isna(v) else f"{v:.1%}")
    return shown.set_index("task").round(3)



def tier_matrix(segments: pd.DataFrame, tier_strategies: pd.DataFrame, min_group_size: int) -> pd.DataFrame:
    """One row per value tier x credit grade: customers, revenue share, strategy, why.

    Cells with fewer than min_group_size customers show "<n" and no revenue share.
    """
    if "revenue_12m" in segments.columns:
        revenue = pd.to_numeric(segments["revenue_12m"], errors="coerce").fillna(0.0)
    else:
        revenue = pd.Series(0.0, index=segments.index)
    total = float(revenue.sum())
    rows = []
    for cell in tier_strategies.itertuples(index=False):
        mask = (segments["value_tier"] == cell.value_tier) & (segments["credit_grade"] == cell.credit_grade)
        n = int(mask.sum())
        small = n < min_group_size
        share = float(revenue[mask].sum() / total) if total > 0 and not small else None
        rows.append({"value_tier": cell.value_tier, "credit_grade": cell.credit_grade,
                     "customers": small_label(min_group_size) if small else str(n),
                     "revenue_share": "–" if share is None else f"{share:.1%}",
                     "strategy": cell.strategy, "why": cell.why})
    return pd.DataFrame(rows)


def tier_grid(matrix: pd.DataFrame) -> pd.DataFrame:
    """The tier matrix as the grid people read: value tiers down, credit grades across."""
    cells = matrix.assign(cell=matrix["customers"] + " customers, " + matrix["revenue_share"] + " of revenue — "
                          + matrix["strategy"])
    return cells.pivot(index="value_tier", columns="credit_grade", values="cell").reindex(list(VALUE_TIERS))


def suppressed_counts(values: pd.Series, min_group_size: int, name: str = "customers") -> pd.DataFrame:
    """Value counts with counts below min_group_size shown as "<n"."""
    counts = values.value_counts().sort_index()
    shown = [small_label(min_group_size) if c < min_group_size else str(int(c)) for c in counts]
    return pd.DataFrame({name: shown}, index=counts.index.astype(str))



def migration(current: pd.DataFrame, previous: pd.DataFrame, min_group_size: int) -> pd.DataFrame:
    """Transition matrix of value tier / credit grade cells from the previous period (rows) to
    this one (columns); `new` and `left` for accounts that opened or closed in between. Counts
    between 1 and min_group_size - 1 are suppressed."""
    def cells(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"customer_id": frame["customer_id"].astype(str),
                             "cell": frame["value_tier"].astype(str) + "/" + frame["credit_grade"].astype(str)})

    both = cells(previous).merge(cells(current), on="customer_id", how="outer", suffixes=("_previous", "_current"))
    both = both.fillna({"cell_previous": "new", "cell_current": "left"})
    table = pd.crosstab(both["cell_previous"], both["cell_current"])
    rows = [c for c in list(TIER_CELLS) + ["new"] if c in table.index]
    cols = [c for c in list(TIER_CELLS) + ["left"] if c in table.columns]
    table = table.reindex(index=rows, columns=cols, fill_value=0)
    shown = table.astype(object)
    small = (table > 0) & (table < min_group_size)
    shown[small] = small_label(min_group_size)
    shown.index.name, shown.columns.name = "previous period", "this period"
    return shown



def action_summary(plan: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Per playbook action: its capacity, ranking, customers planned and held out, what it is."""
    planned = plan.loc[~plan["holdout"].astype(bool), "action"].value_counts()
    held = plan.loc[plan["holdout"].astype(bool), "action"].value_counts()
    return pd.DataFrame({"action": actions["action"], "capacity": actions["capacity"], "rank by": actions["rank_by"],
                         "planned": actions["action"].map(planned).fillna(0).astype(int).to_numpy(),
                         "holdout": actions["action"].map(held).fillna(0).astype(int).to_numpy(),
                         "what": actions["description"]}).set_index("action")


CLUSTERING_INDICES = ["silhouette", "davies_bouldin", "calinski_harabasz", "cdi", "mia", "stability_ari"]


def clustering_comparison(candidates: pd.DataFrame | None, per_family: int = 4) -> pd.DataFrame:
    """The load-shape candidates the segment stage compared (the snapshot's copy of data/segments/clustering_candidates.csv):
    per shape family the chosen one and the next best by mean rank, with the validity indices
    (silhouette and Calinski-Harabasz higher is better; Davies-Bouldin, CDI and MIA lower) and the
    bootstrap stability (adjusted Rand index between runs on resampled customers and days)."""
    if candidates is None or candidates.empty:
        return pd.DataFrame()
    c = candidates.copy()
    c["chosen"] = c["chosen"].astype(str).str.lower().eq("true")
    c = c.sort_values(["family", "chosen", "mean_rank", "k"], ascending=[True, False, True, True])
    top = c.groupby("family", sort=True).head(per_family)
    out = top[["family", "algorithm", "k", *[i for i in CLUSTERING_INDICES if i in top], "chosen"]].copy()
    out["chosen"] = np.where(out["chosen"], "chosen", "")
    return out.rename(columns={"stability_ari": "stability (ARI)"}).round(3).reset_index(drop=True)
