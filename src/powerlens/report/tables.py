"""The report's tables, from a period's snapshot: region cuts, small-group suppression and
the shapes people read (tier matrix, migration, action summary). Presentation only: every
number comes from the snapshot."""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from powerlens.report.i18n import energy, money, t, value_word, word
from powerlens.rules import TIER_CELLS, VALUE_TIERS, probability_text

# the report's look: tables wrap their text and fit a 1280 px page; prose reads as paragraphs
REPORT_STYLE = """<style>
.pl-table { max-width: 100%; overflow-x: hidden; }
.pl-table table { max-width: 100%; table-layout: auto; border-collapse: collapse; }
.pl-table th, .pl-table td { white-space: normal; overflow-wrap: break-word; max-width: 28em; text-align: left;
  vertical-align: top; padding: 0.25em 0.6em; }
.pl-table td.pl-num { text-align: right; }
p.pl-text, p.pl-note, p.pl-more { max-width: 60em; line-height: 1.5; }
p.pl-note { color: #333; font-style: italic; }
.jp-RenderedImage img { max-width: 100%; height: auto; }
</style>"""


def html_table(frame: pd.DataFrame, language: str, max_rows: int | None = None, index: bool = True) -> str:
    """A table as the report shows it: column labels, index names and the domain's words in the
    language (`i18n.word`), every cell escaped, never truncated by pandas (at most `max_rows`
    rows, then a sentence saying how many there are)."""
    shown = frame if max_rows is None or len(frame) <= max_rows else frame.head(max_rows)

    def words(labels: pd.Index) -> pd.Index:
        if isinstance(labels, pd.MultiIndex):
            return pd.MultiIndex.from_tuples([tuple(cell(v) for v in tup) for tup in labels],
                                             names=[None if n is None else word(n, language) for n in labels.names])
        return pd.Index([cell(v) for v in labels], name=None if labels.name is None else word(labels.name, language))

    def cell(value):
        if isinstance(value, bool | np.bool_):
            return word("yes" if value else "no", language)
        return value_word(value, language) if isinstance(value, str) else value

    columns = {}
    for i in range(shown.shape[1]):
        values = shown.iloc[:, i]
        textual = values.dtype == object or pd.api.types.is_string_dtype(values) or pd.api.types.is_bool_dtype(values)
        columns[i] = values.map(cell).astype(object) if textual else values
    cells = pd.DataFrame(columns, index=shown.index)
    cells.columns = pd.Index([word(c, language) for c in shown.columns], name=None if shown.columns.name is None
                             else word(shown.columns.name, language))
    if index:
        cells.index = words(cells.index)
    body = cells.to_html(escape=True, index=index, na_rep="–", border=0, max_rows=None, max_cols=None,
                         show_dimensions=False, classes="pl-data")
    more = ""
    if len(shown) < len(frame):
        more = f'<p class="pl-more">{escape(t("table_first_rows", language, shown=len(shown), n=f"{len(frame):,}"))}</p>'
    return f'<div class="pl-table">{body}{more}</div>'


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
    shown = comparison[[c for c in ["task", "family", *MODEL_METRICS] if c in comparison]].copy()
    for col in ("positives", "n"):
        if col in shown:
            shown[col] = shown[col].map(lambda v: count_text(v, min_group_size))
    return shown.set_index(["task", "family"]).round(3)


# the validation metrics the model-health table shows (the snapshot keeps every one)
MODEL_METRICS = ["champion", "roc_auc", "pr_auc", "lift_at_10pct", "brier", "positives", "n"]


def model_sources_table(sources: pd.DataFrame) -> pd.DataFrame:
    """Which model scored the period, what it was trained and validated on, and its headline
    validation metrics (three decimals)."""
    keep = ["task", "model", "family", "trained on cut-offs", "validated on",
            *[f"validation {m}" for m in ("roc_auc", "pr_auc", "brier")]]
    shown = sources[[c for c in keep if c in sources]].rename(columns={
        "validation roc_auc": "validation ROC-AUC", "validation pr_auc": "validation PR-AUC",
        "validation brier": "validation Brier score"})
    return shown.set_index("task").round(3)


def score_drift(drift: pd.DataFrame) -> pd.DataFrame:
    """Score drift with mean probabilities as percentages (one decimal) and PSI to three."""
    shown = drift.copy()
    for col in ("mean score last period", "mean score now"):
        shown[col] = shown[col].map(lambda v: "–" if pd.isna(v) else f"{v:.1%}")
    return shown.set_index("task").round(3)



KPI_LABELS = {"customers": "active accounts"}  # the count of accounts active in the month


def kpi_value(kpi: str, value: float | None, currency: str, language: str = "en") -> str:
    """One KPI's value with its unit: energy in kWh / MWh / GWh, money in the currency, rates in %."""
    if value is None or pd.isna(value):
        return "–"
    if kpi == "kwh":
        return energy(float(value), language)
    if kpi in ("revenue", "arrears_amount"):
        return money(float(value), currency)
    if kpi.endswith("_rate"):
        return f"{value:.1%}"
    return f"{value:,.0f}"


def kpi_table(kpis: pd.DataFrame, period: str, columns: list[str], language: str, currency: str,
              company: pd.DataFrame | None = None) -> pd.DataFrame:
    """The KPIs of the period next to the month before and the same month a year earlier (the
    months the table has), with units. Given the company's KPIs (a region's report), the
    company's value of the period and the region's share of it (counts and amounts) follow."""
    k = kpis.set_index(kpis["period"].astype(str))
    months = [m for m in (period, str(pd.Period(period, "M") - 1), str(pd.Period(period, "M") - 12)) if m in k.index]
    out = pd.DataFrame({m: [kpi_value(c, k.loc[m, c], currency, language) for c in columns] for m in months},
                       index=pd.Index([KPI_LABELS.get(c, c) for c in columns], name="KPI"))
    if company is not None:
        from powerlens.snapshots import ALL_REGIONS

        whole = company[company["region"].astype(str) == ALL_REGIONS].set_index("period")
        if period in whole.index:
            now = whole.loc[period]
            out["company"] = [kpi_value(c, now.get(c), currency, language) for c in columns]
            out["share of the company"] = [
                "–" if c.endswith("_rate") or not now.get(c) or pd.isna(now.get(c)) or pd.isna(k.loc[period, c])
                else f"{k.loc[period, c] / now[c]:.1%}" for c in columns]
    return out


def counter_payers_table(payers: pd.DataFrame) -> pd.DataFrame:
    """The accounts still paying at a counter: region, class, payments, those at a counter and their share."""
    return pd.DataFrame({
        "region": payers["region"].astype(str).to_numpy(),
        "customer class": payers["customer_class"].astype(str).to_numpy(),
        "payments": payers["payments"].map(lambda v: _num(v)).to_numpy(),
        "at a counter": payers["counter_payments"].map(lambda v: _num(v)).to_numpy(),
        "counter share": payers["counter_share"].map(_pct).to_numpy(),
    }, index=pd.Index(payers["customer_id"].astype(str), name="customer"))


def latent_table(latent: pd.DataFrame, top_n: int) -> pd.DataFrame:
    """The first top_n latent big customers by rank: class, value and potential, and why."""
    top = latent.sort_values(["latent_big_rank", "customer_id"]).head(top_n)
    return pd.DataFrame({
        "rank": top["latent_big_rank"].round().astype("Int64").to_numpy(),
        "customer class": top["customer_class"].astype(str).to_numpy(),
        "value score": top["value_score"].map(lambda v: _num(v, digits=2)).to_numpy(),
        "potential value": top["potential_value"].map(lambda v: _num(v, digits=2)).to_numpy(),
        "why": top["latent_big_reason"].fillna("").astype(str).to_numpy(),
    }, index=pd.Index(top["customer_id"].astype(str), name="customer"))


def big_changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Accounts that entered or left the big-customer list, and why."""
    return pd.DataFrame({"change": changes["change"].astype(str).to_numpy(),
                         "reason": changes["reason"].fillna("").astype(str).to_numpy()},
                        index=pd.Index(changes["customer_id"].astype(str), name="customer"))


def tier_matrix(segments: pd.DataFrame, tier_strategies: pd.DataFrame, min_group_size: int,
                language: str = "en") -> pd.DataFrame:
    """One row per value tier x credit grade: customers, revenue share, strategy, why.

    Cells with fewer than min_group_size customers show "<n" and no revenue share. The strategy
    and why are the playbook's in the language (its `strategy_zh` / `why_zh` in Chinese, where
    the playbook gives them).
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
                     "strategy": playbook_text(cell, "strategy", language),
                     "why": playbook_text(cell, "why", language)})
    return pd.DataFrame(rows)


def playbook_text(row, field: str, language: str) -> str:
    """A playbook text (strategy, why, description) in the language: its `<field>_zh` in
    Chinese when the playbook gives one, else the English."""
    translated = getattr(row, f"{field}_{language}", None) if language != "en" else None
    if isinstance(translated, str) and translated.strip():
        return translated
    value = getattr(row, field, "")
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def tier_grid(matrix: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The tier matrix as the grid people read: value tiers down, credit grades across."""
    cells = matrix.assign(cell=[t("tier_cell", language, n=r.customers, share=r.revenue_share, strategy=r.strategy)
                                for r in matrix.itertuples(index=False)])
    grid = cells.pivot(index="value_tier", columns="credit_grade", values="cell").reindex(list(VALUE_TIERS))
    grid.index.name, grid.columns.name = "value tier", "credit grade"
    return grid


def strategy_table(matrix: pd.DataFrame) -> pd.DataFrame:
    """Each strategy of the matrix once, with why."""
    return matrix.drop_duplicates("strategy")[["strategy", "why"]].set_index("strategy")


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



def action_summary(plan: pd.DataFrame, actions: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Per playbook action: its capacity, ranking, customers planned and held out, what it is
    (the playbook's description in the language where it gives one)."""
    planned = plan.loc[~plan["holdout"].astype(bool), "action"].value_counts()
    held = plan.loc[plan["holdout"].astype(bool), "action"].value_counts()
    return pd.DataFrame({"action": actions["action"], "capacity": actions["capacity"], "rank by": actions["rank_by"],
                         "planned": actions["action"].map(planned).fillna(0).astype(int).to_numpy(),
                         "holdout": actions["action"].map(held).fillna(0).astype(int).to_numpy(),
                         "what": [playbook_text(a, "description", language)
                                  for a in actions.itertuples(index=False)]}).set_index("action")


def plan_list(rows: pd.DataFrame, top_n: int, rank_by: str | None, currency: str) -> pd.DataFrame:
    """The first top_n customers of one action's list: rank, priority (money in the currency when
    the list is ranked by expected revenue), reasons, and whether they are the holdout."""
    first = rows.head(top_n)
    priority = priority_text(first["priority_score"], rank_by)
    label = f"priority ({currency})" if rank_by is not None and "revenue" in str(rank_by) else "priority"
    out = pd.DataFrame({"rank": first["rank"].astype(int).to_numpy(), label: priority.to_numpy(),
                        "reasons": first["reasons"].fillna("").astype(str).to_numpy(),
                        "holdout": first["holdout"].astype(bool).to_numpy()},
                       index=pd.Index(first["customer_id"].astype(str), name="customer"))
    if "act_by" in first and first["act_by"].fillna("").astype(str).ne("").any():  # an escalation step's deadline
        out["act by"] = first["act_by"].fillna("").astype(str).to_numpy()
    return out


def review_table(review: pd.DataFrame) -> pd.DataFrame:
    """Last period's lists against what happened: per action and group, the customers, those
    measured, those with the outcome and the rate."""
    shown = review.drop(columns=[c for c in ("_group", "_n", "_hits", "region") if c in review]).assign(
        rate=review["rate"].map(lambda r: "–" if pd.isna(r) else f"{r:.1%}"))
    return shown.set_index(["action", "group"])


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


# --------------------------------------------------------------------------- the regional section

def _pct(v: float | None, signed: bool = False) -> str:
    if v is None or pd.isna(v):
        return "–"
    return f"{v:+.1%}" if signed else f"{v:.1%}"


def _num(v: float | None, scale: float = 1.0, digits: int = 0) -> str:
    return "–" if v is None or pd.isna(v) else f"{v / scale:,.{digits}f}"


def regions_in(frame: pd.DataFrame | None, region: str | None) -> list[str]:
    """The regions a report shows of a regional table: every region (the stage's order, `total`
    last) or one region with `total` for context."""
    if frame is None or frame.empty:
        return []
    names = [str(r) for r in frame["region"]]
    ordered = sorted(set(names) - {"total"}) + (["total"] if "total" in names else [])
    return ordered if region is None else [r for r in ordered if r in (str(region), "total")]


def region_table(summary: pd.DataFrame, regions: list[str], min_group_size: int, top_n: int) -> pd.DataFrame:
    """One row per region: the last 12 months' energy (MWh), peak (kW), load factor, the latest
    weather-normalized growth, the steps, line loss, and the theft-scored accounts, their mean
    score (a percentage with one decimal, like the drift's means) and how many are on the theft
    top list (counts below min_group_size as "<n"; the mean of a smaller group is not shown)."""
    s = summary.assign(region=summary["region"].astype(str)).set_index("region").reindex(regions)
    small = s["theft_scored_accounts"].isna() | (s["theft_scored_accounts"] < min_group_size)
    return pd.DataFrame({
        "energy 12 months (MWh)": s["energy_kwh_12m"].map(lambda v: _num(v, 1e3)),
        "peak (kW)": s["peak_kw_12m"].map(_num),
        "load factor": s["load_factor_12m"].map(lambda v: _num(v, digits=2)),
        "growth (weather-normalized, y/y)": s["growth_yoy_weather_normalized"].map(lambda v: _pct(v, True)),
        "new-load steps": s["steps"].map(lambda v: "–" if pd.isna(v) else str(int(v))),
        "line loss": s["line_loss_12m"].map(_pct),
        "theft-scored accounts": s["theft_scored_accounts"].map(lambda v: count_text(v, min_group_size)),
        "mean theft score": [_pct(v) if not hidden else "–"
                             for v, hidden in zip(s["theft_mean_score"], small, strict=True)],
        f"accounts in theft top {top_n}": s["theft_top_accounts"].map(
            lambda v: "–" if pd.isna(v) else count_text(v, min_group_size)),
    }, index=pd.Index(regions, name="region"))


def steps_table(steps: pd.DataFrame, regions: list[str]) -> pd.DataFrame:
    """The new-load events: region, first day, level before and after (kW at average weather),
    the step in kW and as a share of the level before."""
    s = steps[steps["region"].astype(str).isin(regions)].sort_values(["date", "region"])
    return pd.DataFrame({
        "region": s["region"].astype(str).to_numpy(),
        "from": pd.to_datetime(s["date"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "level before (kW)": s["level_before_kw"].map(_num).to_numpy(),
        "level after (kW)": s["level_after_kw"].map(_num).to_numpy(),
        "step (kW)": s["step_kw"].map(lambda v: f"{v:+,.0f}").to_numpy(),
        "step": s["step_share"].map(lambda v: _pct(v, True)).to_numpy(),
    }).set_index(["region", "from"])


def sales_table(sales: pd.DataFrame, regions: list[str], min_group_size: int) -> pd.DataFrame:
    """kWh per region x customer class over the last 12 months (MWh), its share of the region's
    billed kWh and its growth on the 12 months before; customer counts below min_group_size as
    "<n" and then no kWh (a group that small would be told by its consumption)."""
    s = sales[sales["region"].astype(str).isin(regions)].copy()
    share = s["kwh_12m"] / s.groupby("region")["kwh_12m"].transform("sum")
    small = (s["customers"] > 0) & (s["customers"] < min_group_size)
    out = pd.DataFrame({
        "region": s["region"].astype(str), "customer class": s["customer_class"].astype(str),
        "customers": s["customers"].map(lambda v: count_text(v, min_group_size)),
        "billed 12 months (MWh)": [("–" if hide else _num(v, 1e3)) for v, hide in zip(s["kwh_12m"], small, strict=True)],
        "share of the region": [("–" if hide else _pct(v)) for v, hide in zip(share, small, strict=True)],
        "growth (y/y, not weather-normalized)": [("–" if hide else _pct(v, True))
                                                 for v, hide in zip(s["growth"], small, strict=True)],
    })
    return out.set_index(["region", "customer class"])


def forecast_accuracy_table(accuracy: pd.DataFrame, regions: list[str]) -> pd.DataFrame:
    """Last week's forecast against what happened, per region: hours compared, MAPE, bias and the
    share of hours inside the 80% interval."""
    a = accuracy.assign(region=accuracy["region"].astype(str)).set_index("region").reindex(regions).dropna(
        subset=["hours"])
    return pd.DataFrame({"hours": a["hours"].astype(int), "MAPE": a["mape"].map(_pct),
                         "bias": a["bias"].map(lambda v: _pct(v, True)),
                         "hours inside the 80% interval": a["coverage_80"].map(lambda v: f"{v:.0%}")},
                        index=a.index)


def backtest_table(backtest: pd.DataFrame) -> pd.DataFrame:
    """The forecast models' rolling-origin backtest: errors as percentages, MASE and pinball to
    two decimals, best total MAPE first."""
    b = backtest.sort_values("mape_total")
    out = pd.DataFrame({"variant": b["variant"].astype(str)})
    for col, label in (("mape_total", "MAPE total"), ("mape_regions_mean", "MAPE regions (mean)"),
                       ("coverage_total", "80% coverage total"), ("coverage_regions_mean", "80% coverage regions")):
        if col in b:
            out[label] = b[col].map(_pct)
    for col, label in (("mase_total", "MASE total"), ("mase_regions_mean", "MASE regions (mean)"),
                       ("pinball_total", "pinball total (kW)")):
        if col in b:
            out[label] = b[col].map(lambda v: _num(v, digits=2))
    return out.set_index("variant")


def outlook_table(outlook: pd.DataFrame, regions: list[str], language: str = "en") -> pd.DataFrame:
    """The next 12 months against the last 12 per region, with the drivers of the change: the
    weather-normalized growth and the new-load steps of the last 12 months (the energy a full
    year of them adds, as a share of the last 12 months)."""
    o = outlook.assign(region=outlook["region"].astype(str)).set_index("region").reindex(regions).dropna(
        subset=["energy_kwh_next_12m"])

    def drivers(row) -> str:
        parts = []
        if pd.notna(row.growth_yoy_weather_normalized):
            parts.append(t("outlook_growth", language, growth=f"{row.growth_yoy_weather_normalized:+.1%}"))
        if row.steps_12m:
            when = "" if pd.isna(row.last_step_date) else t(
                "outlook_last_on", language, date=f"{pd.Timestamp(row.last_step_date):%Y-%m-%d}")
            parts.append(t("outlook_steps", language, n=int(row.steps_12m), kw=f"{row.step_kw_12m:+,.0f}",
                           when=when, share=_pct(row.step_carry_over_share, True)))
        return t("outlook_join", language).join(parts) or "–"

    return pd.DataFrame({
        "last 12 months (MWh)": o["energy_kwh_last_12m"].map(lambda v: _num(v, 1e3)),
        "next 12 months (MWh)": o["energy_kwh_next_12m"].map(lambda v: _num(v, 1e3)),
        "change": o["change"].map(lambda v: _pct(v, True)),
        "peak last 12 months (kW)": o["peak_kw_last_12m"].map(_num),
        "peak next 12 months (kW)": o["peak_kw_next_12m"].map(_num),
        "drivers": [drivers(r) for r in o.itertuples()],
    }, index=o.index)


# --------------------------------------------------------------------------- industries

def industry_table(view: pd.DataFrame, min_group_size: int) -> pd.DataFrame:
    """One row per industry (largest consumption first): customers, MWh over 12 months and its
    share, growth, median load factor, share of the summed peaks, kWh per kVA; an industry under
    min_group_size shows "<n" customers and no figures."""
    v = view.set_index(view["industry"].astype(str))
    return pd.DataFrame({
        "customers": v["customers"].map(lambda n: count_text(n, min_group_size)),
        "energy 12 months (MWh)": v["kwh_12m"].map(lambda x: _num(x, 1e3)),
        "share of energy": v["kwh_share"].map(_pct),
        "growth (per year)": (v["growth_pct_per_year"] / 100).map(lambda x: _pct(x, True)),
        "median load factor": v["load_factor_median"].map(lambda x: _num(x, digits=2)),
        "share of summed peaks": v["peak_share"].map(_pct),
        "kWh per kVA": v["kwh_per_kva"].map(_num),
    }).rename_axis("industry")


def efficiency_audit_table(audit: pd.DataFrame, top_n: int, currency: str = "") -> pd.DataFrame:
    """The efficiency audit's first `top_n` big customers: load factor against the industry's
    median, the peak the same energy needs at it, the estimated annual saving and why."""
    a = audit.head(top_n).set_index("customer_id")
    unit = f" ({currency})" if currency else ""
    return pd.DataFrame({
        "industry": a["industry"].astype(str),
        "load factor": a["load_factor"].map(lambda x: _num(x, digits=2)),
        "industry median": a["industry_load_factor_median"].map(lambda x: _num(x, digits=2)),
        "peak now (kW)": a["peak_kw"].map(_num),
        "peak at the median (kW)": a["peak_kw_at_median"].map(_num),
        f"estimated annual saving{unit}": a["annual_saving"].map(_num),
        "why": a["reason"].astype(str),
    }).rename_axis("customer")


# --------------------------------------------------------------------------- price and the ToU offer

def tou_table(segments: pd.DataFrame, features: pd.DataFrame | None, min_group_size: int,
              currency: str = "") -> pd.DataFrame:
    """Per customer class: what customers pay per kWh and at the peak, how price-sensitive they
    are (the features' medians), and the ToU offer the segment stage priced for them (customers
    who would save, their expected yearly saving and load-factor gain). A class with fewer than
    min_group_size customers shows its count only."""
    unit = f" ({currency})" if currency else ""
    seg = segments.set_index(segments["customer_id"].astype(str))
    price_cols = ["avg_price_per_kwh", "bill_share_peak", "price_sensitivity"]
    if features is not None and len(features):
        feats = features.set_index(features["customer_id"].astype(str))
        seg = seg.join(feats[[c for c in price_cols if c in feats and c not in seg]])
    for col in price_cols + ["tou_expected_saving", "tou_load_factor_gain"]:
        if col not in seg:
            seg[col] = np.nan
    saving = pd.to_numeric(seg["tou_expected_saving"], errors="coerce")
    seg = seg.assign(candidate=saving > 0, saving=saving.where(saving > 0))
    rows = {}
    for cls, g in seg.groupby(seg["customer_class"].astype(str), sort=True):
        small = len(g) < min_group_size
        cand = g[g["candidate"]]

        def shown(text: str, hidden: bool = small) -> str:
            return "–" if hidden else text
        rows[cls] = {
            "customers": count_text(len(g), min_group_size),
            f"average price per kWh{unit}": shown(_num(g["avg_price_per_kwh"].median(), digits=3)),
            "peak share of the bill": shown(_pct(g["bill_share_peak"].median())),
            "price sensitivity (median)": shown(_num(g["price_sensitivity"].median(), digits=2)),
            "ToU candidates": shown(count_text(len(cand), min_group_size)),
            f"expected saving a year{unit}": shown(_num(cand["saving"].sum()), small or len(cand) < min_group_size),
            "load-factor gain (mean)": shown(_num(cand["tou_load_factor_gain"].mean(), digits=3),
                                             small or len(cand) < min_group_size),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("customer class")


# --------------------------------------------------------------------------- service and payments

SERVICE_KPI_NAMES = {
    "complaints_per_10k": "complaints per 10,000 accounts",
    "fault_resolution_hours_median": "fault resolution, median (hours)",
    "fault_resolution_hours_p90": "fault resolution, 90th percentile (hours)",
    "satisfaction_mean": "callback satisfaction (1-5)",
    "new_connection_days_median": "new connection lead time, median (days)",
}


SERVICE_KPI_SUPPORT = {"complaints_per_10k": "customers", "fault_resolution_hours_median": "faults_resolved",
                       "fault_resolution_hours_p90": "faults_resolved", "satisfaction_mean": "callbacks",
                       "new_connection_days_median": "new_connections"}


def service_kpi_table(kpis: pd.DataFrame, period: str, region: str | None, min_group_size: int) -> pd.DataFrame:
    """The period's service KPIs per region (whole regions, not tiers), in words; a KPI measured
    on fewer than min_group_size accounts or events is not shown."""
    rows = kpis[kpis["period"].eq(period) & kpis["tier"].eq("all")]
    if region is not None:
        rows = rows[rows["region"].astype(str).eq(str(region))]
    rows = rows.set_index(rows["region"].astype(str))
    out = pd.DataFrame({"accounts": rows["customers"].map(lambda n: count_text(n, min_group_size))})
    for kpi, name in SERVICE_KPI_NAMES.items():
        if kpi in rows:
            # a value measured on fewer than min_group_size accounts or events describes a handful
            small = rows[SERVICE_KPI_SUPPORT[kpi]].fillna(0) < min_group_size
            digits = 1 if kpi != "complaints_per_10k" else 0
            out[name] = [("–" if hidden or pd.isna(v) else f"{v:,.{digits}f}")
                         for v, hidden in zip(rows[kpi], small, strict=True)]
    return out.rename_axis("region")


def rectification_table(items: pd.DataFrame, region: str | None = None, language: str = "en") -> pd.DataFrame:
    """Rectification items (or their follow-up) in words: region, month, KPI, value against target."""
    if region is not None:
        items = items[items["region"].astype(str).eq(str(region))]
    out = pd.DataFrame({
        "region": items["region"].astype(str), "month": items["period"].astype(str),
        "KPI": items["kpi"].map(lambda k: SERVICE_KPI_NAMES.get(k, str(k).replace("_", " "))),
        "value": items["value"].map(lambda v: _num(v, digits=1)),
        "target": [t("target_at_most" if d == "max" else "target_at_least", language, target=f"{v:g}")
                   for v, d in zip(items["target"], items["direction"], strict=True)],
    })
    if "status" in items:
        out["now"] = items["value_now"].map(lambda v: _num(v, digits=1))
        out["status"] = items["status"].map({"closed": "closed", "still_open": "still open"}).fillna(items["status"])
    return out.reset_index(drop=True)


def channel_trend_table(trend: pd.DataFrame, region: str | None = None) -> pd.DataFrame:
    """Per region and customer class: the digital share of payments first and last, and its change per year."""
    if region is not None:
        trend = trend[trend["region"].astype(str).eq(str(region))]
    return pd.DataFrame({
        "region": trend["region"].astype(str), "customer class": trend["customer_class"].astype(str),
        "from": trend["first_period"].astype(str), "to": trend["last_period"].astype(str),
        "digital share then": trend["digital_share_first"].map(_pct),
        "digital share now": trend["digital_share_last"].map(_pct),
        "change per year": trend["digital_share_change_per_year"].map(lambda v: _pct(v, True)),
    }).set_index(["region", "customer class"])
