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
# What the customer base looks like this period, who matters, who is at risk, what to do next
# and why, and how last period's actions worked. Everything is as of the period's end, from data
# before it. Customers appear only by their pseudonym; groups smaller than the minimum group size
# are not shown.

# %% tags=["parameters"]
period = "2026-10"
data_dir = "data"
region = None
top_n = 20
min_group_size = 10
playbook_path = "playbook.yaml"
params_path = "params.yaml"
actions_out = None
cache_dir = None

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
playbook = strategy.load_playbook(playbook_path) if Path(playbook_path).exists() else None

# the period's own snapshot (and the previous period's), computed from data before its end
state = reporting.period_state(DATA, period, playbook_path if playbook is not None else None, params_path,
                               region=region, top_n=top_n, cache_dir=cache_dir)
snapshot, previous_snapshot = state.current, state.previous
segments = reporting.filter_region(snapshot.segments, region_ids)
scores = reporting.filter_region(snapshot.scores, region_ids)
profiles = snapshot.profiles
plan = reporting.filter_region(state.plan, region_ids)
if actions_out:  # the action table next to the report (render() moves it into place)
    plan.to_csv(actions_out, index=False)

print(f"Period {period} (data before {PERIOD_END.date()}); region: {region or 'all regions'}")
for note in state.notes + snapshot.notes:
    print(note)
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
previous_segments = reporting.filter_region(previous_snapshot.segments, region_ids)
if segments is None or previous_segments is None or previous_segments.empty:
    print(f"no segments as of {previous_snapshot.cutoff.date()}: migration not shown")
elif region_too_small:
    print("migration suppressed (group too small)")
else:
    print(f"From {previous_snapshot.cutoff.date()} to {snapshot.cutoff.date()}:")
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
# Mean normalized profile per load shape (1 = the mean; by hour of the day for customers with
# interval readings, by month for the others), with the 10-90% band.

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
        axes_shown = set(profiles.loc[profiles["load_shape"].isin(shown), "axis"])
        title = ("Load shapes by hour of the day" if axes_shown == {"hour"} else
                 "Load shapes by month" if axes_shown == {"month"} else "Load shapes by hour of the day or by month")
        fig.suptitle(f"{title} (all regions)" if region else title)
        fig.tight_layout()
        reporting.show_figure(fig)

# %% [markdown]
# How the shapes were chosen: every clustering candidate (shape family x algorithm x number of
# shapes k) is judged by its validity indices and its bootstrap stability; the rule in
# `powerlens.segmentation.clustering` picks one per family. The chosen and the next best:

# %%
candidates = reporting.clustering_comparison(DATA)
if candidates.empty:
    print("no clustering comparison yet (run the segment stage)")
else:
    display(candidates.set_index(["family", "algorithm", "k"]))

# %% [markdown]
# ## 6. Risk lists
#
# The riskiest customers per task at the period's end, with the reasons behind each score. The
# model of each task learned only from label windows that ended before the period's end (see
# model health).

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
    print("no segments for this period: no action plan")
else:
    summary = pd.DataFrame([
        {"action": a["name"], "capacity": a["capacity"], "rank by": a["rank_by"],
         "planned": int(((plan["action"] == a["name"]) & ~plan["holdout"]).sum()),
         "holdout": int(((plan["action"] == a["name"]) & plan["holdout"]).sum()),
         "what": a.get("description", "")}
        for a in playbook["actions"]
    ]).set_index("action")
    display(summary)
    if plan["holdout"].any():
        print("holdout = drawn at random from the list and left untreated on purpose, so that the "
              "action's effect can be measured next period")
    for name, rows in plan.groupby("action", sort=False):
        print(f"{name}: first {min(top_n, len(rows))} of {len(rows)}")
        display(rows.head(top_n).drop(columns="action").round({"priority_score": 3})
                .set_index("customer_id"))
    if plan.empty:
        print("no customer meets any action's condition")

# %% [markdown]
# ## 8. How the last actions worked
#
# Last period's action lists against what happened to those customers since (up to this
# period's end). Each list is compared with the customers next in line (eligible, but over
# capacity), with all other open accounts and, where the playbook keeps one, with a random
# holdout. The data does not record whether each planned contact took place, so these are the
# lists' outcomes, not proof of what the actions did: only a random holdout measures an effect.

# %%
if playbook is None:
    print("no playbook: nothing to review")
elif region_too_small:
    print("review suppressed (group too small)")
else:
    review, readings = reporting.review_last_actions(state, playbook, region_ids, min_group_size)
    if review.empty:
        print(f"no action plan as of {previous_snapshot.cutoff.date()} to review "
              "(its segments or scores could not be computed)")
    else:
        print(f"Plan of {previous_snapshot.cutoff.date()}, outcomes from {previous_snapshot.cutoff.date()} "
              f"to {snapshot.cutoff.date()}:")
        shown = review.drop(columns=["_group", "_n", "_hits"]).assign(
            rate=review["rate"].map(lambda r: "–" if pd.isna(r) else f"{r:.1%}"))
        display(shown.set_index(["action", "group"]))
        for name, reading in readings.items():
            print(f"{name}: {reading}")
        unmeasured = [a["name"] for a in playbook["actions"] if not a.get("outcome")]
        if unmeasured:
            print(f"no outcome defined in the playbook for: {', '.join(unmeasured)}")

# %% [markdown]
# ## 9. Model health
#
# Validation metrics of each model family per risk task from the last training (the champion
# scores the latest period), which model scored this period and what it learned from, and how
# far the scores drifted since the previous period (the same model on both periods' customers).

# %%
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
sources = reporting.model_sources(snapshot)
if not sources.empty:
    print(f"Models that scored {period} (as of {snapshot.cutoff.date()}):")
    display(sources.set_index("task").round(3))
if state.drift.empty:
    print("no previous-period scores: score drift not shown")
else:
    print(f"Score drift of each model from {previous_snapshot.cutoff.date()} to {snapshot.cutoff.date()}:")
    display(state.drift.set_index("task").round(3))
