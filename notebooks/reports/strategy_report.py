# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Strategy report
#
# What the customer base looks like this period, who matters, who is at risk, and what to do
# next and why. Customers appear only by their pseudonym; groups smaller than the minimum
# group size are not shown.

# %% tags=["parameters"]
period = "2026-10"
data_dir = "data"
region = None
top_n = 20
min_group_size = 10
playbook_path = "playbook.yaml"

# %%
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import display  # noqa: E402

from powerlens import reporting, strategy  # noqa: E402

warnings.filterwarnings("ignore")
pd.set_option("display.max_colwidth", 200)
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

DATA = Path(data_dir)
PERIOD_START, PERIOD_END = reporting.period_bounds(period)
region_ids = reporting.region_customer_ids(DATA, region)
region_too_small = region_ids is not None and len(region_ids) < min_group_size
scores_usable, scores_note = reporting.scoring_status(DATA, period)

segments = reporting.filter_region(reporting.read_table(DATA, "segments/segments.parquet"), region_ids)
scores = reporting.filter_region(reporting.read_table(DATA, "scores/scores.parquet"), region_ids)
profiles = reporting.read_table(DATA, "segments/profiles.parquet")
seg_metrics = reporting.read_json(DATA, "segments/metrics.json")
playbook = strategy.load_playbook(playbook_path) if Path(playbook_path).exists() else None
if not scores_usable:
    segments = scores = profiles = seg_metrics = None

print(f"Period {period} (data before {PERIOD_END.date()}); region: {region or 'all regions'}")
print(scores_note)
if region_too_small:
    print(f"region {region} has fewer than {min_group_size} customers: aggregates are suppressed")
if playbook is None:
    print(f"no playbook at {playbook_path}: strategies and actions not shown")

# %% [markdown]
# ## 1. KPIs
#
# Accounts active in the month, billed kWh and revenue, the share of bills due in the month
# paid in full by the due date, unpaid past-due amount at month end, accounts closed and
# confirmed thefts (inspections), for the period and the 12 months up to it.

# %%
kpis = reporting.monthly_kpis(DATA, period, region)
kpi_cols = [c for c in kpis.columns if c != "period" and kpis[c].notna().any()]
if region_too_small:
    print("KPIs suppressed (group too small)")
elif not kpi_cols:
    print("no customers / bills / payments / service events tables yet: no KPIs")
else:
    current = kpis.set_index("period").loc[period, kpi_cols]
    fmt = {"on_time_rate": "{:.1%}", "kwh": "{:,.0f}", "revenue": "{:,.0f}",
           "arrears_amount": "{:,.0f}"}
    display(pd.DataFrame({
        "KPI": [c.replace("_", " ") for c in kpi_cols],
        period: [fmt.get(c, "{:,.0f}").format(current[c]) if pd.notna(current[c]) else "–"
                 for c in kpi_cols],
    }).set_index("KPI"))
    ncols = 4
    nrows = -(-len(kpi_cols) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(14, 3 * nrows), squeeze=False)
    for ax, col in zip(axes.flat, kpi_cols, strict=False):
        ax.plot(kpis["period"], kpis[col], marker="o")
        ax.set_title(col.replace("_", " "))
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    for ax in list(axes.flat)[len(kpi_cols):]:
        ax.axis("off")
    fig.suptitle(f"12-month trend up to {period}")
    fig.tight_layout()
    reporting.show_figure(fig)

# %% [markdown]
# ## 2. Pareto curve of revenue
#
# Billed revenue of the 12 months up to the period, customers sorted from largest to smallest.

# %%
revenue = reporting.revenue_by_customer(DATA, period, region)
if revenue is None:
    print("no bills yet: no Pareto curve")
elif len(revenue) < min_group_size:
    print(f"fewer than {min_group_size} billed customers: Pareto curve suppressed")
else:
    curve, top20 = reporting.pareto(revenue)
    print(f"Top 20% of customers bring {top20:.1%} of the revenue ({len(revenue):,} billed customers).")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(curve["customer_share"] * 100, curve["revenue_share"] * 100)
    ax.axvline(20, color="grey", linestyle="--")
    ax.axhline(top20 * 100, color="grey", linestyle="--")
    ax.set_xlabel("% of customers (largest first)")
    ax.set_ylabel("% of revenue")
    ax.set_title(f"Pareto: top 20% = {top20:.1%} of revenue")
    reporting.show_figure(fig)

# %% [markdown]
# ## 3. Value x credit tier matrix
#
# Customers and revenue share per value tier x credit grade, with each cell's strategy from the
# playbook. Cells with fewer customers than the minimum group size show "<n".

# %%
if segments is None or segments.empty:
    print("no segments yet: no value x credit matrix")
elif playbook is None:
    print("no playbook: no value x credit matrix")
else:
    matrix = reporting.tier_matrix(segments, playbook, min_group_size)
    cells = matrix.assign(
        cell=matrix["customers"] + " customers, " + matrix["revenue_share"] + " of revenue — "
        + matrix["strategy"]
    )
    display(cells.pivot(index="value_tier", columns="credit_grade", values="cell")
            .reindex(list(strategy.VALUE_TIERS)))
    legend = matrix.drop_duplicates("strategy")[["strategy", "why"]].set_index("strategy")
    display(legend)

# %% [markdown]
# ### Segment migration
#
# How customers moved between value tier / credit grade cells since the previous period (rows:
# last period, columns: this period; `new` opened, `left` closed in between).

# %%
previous_segments = reporting.filter_region(reporting.read_table(DATA, "segments/segments_previous.parquet"), region_ids)
if segments is None or previous_segments is None or previous_segments.empty:
    print("no previous-period segments: migration not shown")
elif region_too_small:
    print("migration suppressed (group too small)")
else:
    display(reporting.migration(segments, previous_segments, min_group_size))

# %% [markdown]
# ## 4. Big and latent-big customers

# %%
if segments is None or segments.empty:
    print("no segments yet: no big / latent-big customers")
else:
    big = segments["big_customer"].fillna(False).astype(bool)
    rev = pd.to_numeric(segments["revenue_12m"], errors="coerce").fillna(0.0)
    if big.sum() >= min_group_size and rev.sum() > 0:
        print(f"{int(big.sum()):,} big customers bring {rev[big].sum() / rev.sum():.1%} of the revenue.")
    else:
        print(f"fewer than {min_group_size} big customers: share suppressed")
    by_class = pd.concat(
        {
            "big": reporting.suppressed_counts(segments.loc[big, "customer_class"], min_group_size)["customers"],
            "latent big": reporting.suppressed_counts(
                segments.loc[segments["latent_big_customer"].fillna(False).astype(bool), "customer_class"],
                min_group_size)["customers"],
        },
        axis=1,
    ).fillna("0")
    display(by_class.rename_axis("customer class"))
    latent = segments[segments["latent_big_customer"].fillna(False).astype(bool)]
    if latent.empty:
        print("no latent big customers flagged")
    else:
        top = latent.sort_values(["latent_big_rank", "customer_id"]).head(top_n)
        display(top[["customer_id", "latent_big_rank", "customer_class", "value_score",
                     "potential_value", "latent_big_reason"]]
                .round({"value_score": 3, "potential_value": 3, "latent_big_rank": 0})
                .set_index("customer_id"))

# %% [markdown]
# ## 5. Load-shape segments
#
# Mean normalized weekday profile per load shape (1 = the day's mean), with the 10-90% band.

# %%
if segments is None or segments.empty:
    print("no segments yet: no load-shape counts")
else:
    display(reporting.suppressed_counts(segments["load_shape"], min_group_size).rename_axis("load shape"))
if profiles is None or profiles.empty:
    print("no load-shape profiles yet")
else:
    shapes = profiles.groupby("load_shape")["n_customers"].max()
    shown = sorted(shapes[shapes >= min_group_size].index)
    hidden = sorted(set(shapes.index) - set(shown))
    if hidden:
        print(f"profiles of {len(hidden)} shape(s) with fewer than {min_group_size} customers not shown")
    if shown:
        ncols = min(3, len(shown))
        nrows = -(-len(shown) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.2 * nrows), squeeze=False,
                                 sharey=True)
        for ax, shape in zip(axes.flat, shown, strict=False):
            prof = profiles[profiles["load_shape"] == shape].sort_values("x")
            ax.fill_between(prof["x"], prof["p10"], prof["p90"], alpha=0.25, label="10-90%")
            ax.plot(prof["x"], prof["mean"], label="mean")
            ax.set_title(f"{shape} (n={int(shapes[shape]):,})")
            ax.set_xticks(range(0, 24, 3) if prof["axis"].iloc[0] == "hour" else range(1, 13))
            ax.set_xlabel(prof["axis"].iloc[0] if "axis" in prof else "hour")
        for ax in list(axes.flat)[len(shown):]:
            ax.axis("off")
        axes.flat[0].legend(loc="upper left")
        title = "Weekday load shapes" if profiles["axis"].iloc[0] == "hour" else "Monthly load shapes"
        fig.suptitle(f"{title} (all regions)" if region else title)
        fig.tight_layout()
        reporting.show_figure(fig)

# %% [markdown]
# ## 6. Risk lists
#
# The riskiest customers per task at the scoring cut-off, with the reasons behind each score.

# %%
for task in strategy.TASKS:
    task_scores = None if scores is None else scores[scores["task"] == task]
    if task_scores is None or task_scores.empty:
        print(f"no scores for {task} yet")
        continue
    display_top = (task_scores.sort_values(["rank", "customer_id"]).head(top_n)
                   [["customer_id", "rank", "score", "reasons"]]
                   .round({"score": 3}).set_index("customer_id"))
    print(f"{task}: top {len(display_top)} of {len(task_scores):,} scored customers")
    display(display_top)

# %% [markdown]
# ## 7. Action plan
#
# Per-customer actions from the playbook, ranked and capped at each team's capacity per period
# (the full list is in actions.csv next to this report).

# %%
if playbook is None:
    print("no playbook: no action plan")
elif segments is None:
    print("no segments yet: no action plan")
else:
    plan = reporting.action_plan(DATA, period, region, playbook_path)
    summary = pd.DataFrame([
        {"action": a["name"], "capacity": a["capacity"], "rank by": a["rank_by"],
         "planned": int((plan["action"] == a["name"]).sum()), "what": a.get("description", "")}
        for a in playbook["actions"]
    ]).set_index("action")
    display(summary)
    for name, rows in plan.groupby("action", sort=False):
        print(f"{name}: first {min(top_n, len(rows))} of {len(rows)}")
        display(rows.head(top_n).drop(columns="action").round({"priority_score": 3})
                .set_index("customer_id"))
    if plan.empty:
        print("no customer meets any action's condition")

# %% [markdown]
# ## 8. Model health
#
# Validation metrics of each model family per risk task (the champion scores customers), and how
# far each champion's scores drifted since the previous period.

# %%
if not scores_usable:
    print("models trained after the period's end: not shown")
else:
    comparison, decisions = reporting.model_comparison(DATA)
    if comparison.empty:
        print("no model metrics yet")
    else:
        display(comparison.set_index(["task", "family"]).round(3))
        for task, decision in decisions.items():
            print(f"{task}: {decision}")
        for task in strategy.TASKS:
            if task not in decisions:
                print(f"no model metrics for {task} yet")
    previous_scores = reporting.read_table(DATA, "scores/scores_previous.parquet")
    if scores is not None and previous_scores is not None and not previous_scores.empty:
        print("Score drift of each champion against the previous period:")
        display(reporting.score_drift(scores, previous_scores).set_index("task").round(3))
    else:
        print("no previous-period scores: score drift not shown")
