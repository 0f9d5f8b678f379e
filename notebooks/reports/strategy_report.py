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
#
# This notebook presents the period's snapshot (`data/snapshots/<period>/`, made by the
# pipeline's `snapshot` stage): it loads, formats and plots, and computes or writes nothing.

# %% tags=["parameters"]
period = "2026-10"
snapshot_dir = "data/snapshots/2026-10"
region = None
top_n = 20
min_group_size = 10

# %%
import warnings  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import HTML, display  # noqa: E402

from powerlens.report import cards, figures, summary, tables  # noqa: E402
from powerlens.rules import CREDIT_GRADES, TASKS, VALUE_TIERS  # noqa: E402
from powerlens.snapshots import ALL_REGIONS, load_snapshot  # noqa: E402

warnings.filterwarnings("ignore")
pd.set_option("display.max_colwidth", 200)
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

snap = load_snapshot(snapshot_dir)
manifest = snap.manifest
# the derived tasks first, then any task a source labels (e.g. acorn_group)
tasks = list(TASKS) + sorted(set(snap.scores["task"]) - set(TASKS)) if snap.scores is not None else list(TASKS)
region_key = region if region is not None else ALL_REGIONS
if region is not None and region not in manifest["regions"]:
    print(f"region {region} has no customers in this snapshot; known regions: {', '.join(manifest['regions'])}")
segments = tables.for_region(snap.segments, region)
previous_segments = tables.for_region(snap.segments_previous, region)
scores = tables.for_region(snap.scores, region)
plan = tables.for_region(snap.plan, region)
region_too_small = region is not None and (segments is None or len(segments) < min_group_size)
has_playbook = manifest.get("playbook", False)

print(f"Period {period} (data before {snap.cutoff.date()}); region: {region or 'all regions'}")
for note in manifest["notes"]:
    print(note)
if region_too_small:
    print(f"region {region} has fewer than {min_group_size} customers: aggregates are suppressed")
if not has_playbook:
    print("no playbook: strategies and actions not shown")

# %% [markdown]
# ## Summary

# %%
display(HTML(summary.summary_html(summary.executive_summary(snap, period, region, region_key))))

# %%
display(HTML(summary.contents_html(with_regions=snap.regional_summary is not None)))

# %% [markdown]
# ## 1. KPIs
#
# Accounts active in the month, billed kWh and revenue, the share of bills due in the month
# paid in full by the due date, unpaid past-due amount at month end, accounts closed and
# confirmed thefts (inspections), for the period and the 12 months up to it.

# %%
kpis = tables.for_region(snap.kpis, region_key)
kpi_cols = [c for c in kpis.columns if c not in ("period", "region") and kpis[c].notna().any()]
if region_too_small:
    print("KPIs suppressed (group too small)")
elif not kpi_cols:
    print("no customers / bills / payments / service events tables yet: no KPIs")
else:
    current = kpis.set_index("period").loc[period, kpi_cols]
    fmt = {"on_time_rate": "{:.1%}", "kwh": "{:,.0f}", "revenue": "{:,.0f}", "arrears_amount": "{:,.0f}"}
    display(pd.DataFrame({
        "KPI": [c.replace("_", " ") for c in kpi_cols],
        period: [fmt.get(c, "{:,.0f}").format(current[c]) if pd.notna(current[c]) else "–" for c in kpi_cols],
    }).set_index("KPI"))
    figures.show_figure(figures.kpi_trends_figure(kpis, kpi_cols, period))

# %% [markdown]
# ### Service quality (95598) and payment channels
#
# The period's service KPIs per region against their targets (`service.targets` in params.yaml):
# complaints per 10,000 accounts, fault resolution hours, callback satisfaction and new-connection
# lead time. Each KPI that breaks its target is a rectification item, checked again next period.
# Then how customers pay: the share paying digitally and the accounts still paying at counters.

# %%
service_kpis = snap.service_kpis
if service_kpis is None or service_kpis.empty:
    print("no service events with the 95598 attributes: no service KPIs")
else:
    display(tables.service_kpi_table(service_kpis, period, region, min_group_size))
    items = snap.rectification
    if items is not None and len(items):
        print(f"Rectification items of {period} (KPIs that break their target):")
        display(tables.rectification_table(items, region))
    else:
        print(f"no KPI breaks its target in {period}")
    follow = snap.rectification_follow_up
    if follow is not None and len(follow):
        print("Last period's rectification items, checked now:")
        display(tables.rectification_table(follow, region))
trend = snap.payment_channel_trend
if trend is not None and len(trend):
    display(tables.channel_trend_table(trend, region))
    payers = tables.for_region(snap.counter_payers, region)
    if payers is not None and len(payers):
        print(f"{len(payers):,} open accounts mostly paid at a counter lately (targets of an e-payment campaign); "
              f"the first {min(top_n, len(payers))}:")
        display(payers.head(top_n).set_index("customer_id")[["region", "customer_class", "payments",
                                                             "counter_payments", "counter_share"]])

# %% [markdown]
# ## 2. Pareto curve of revenue
#
# Billed revenue of the 12 months up to the period, customers sorted from largest to smallest.

# %%
summary = tables.for_region(snap.pareto_summary, region_key)
billed = int(summary["customers"].iloc[0]) if len(summary) else 0
if billed == 0:
    print("no bills yet: no Pareto curve")
elif billed < min_group_size:
    print(f"fewer than {min_group_size} billed customers: Pareto curve suppressed")
else:
    top20 = float(summary["top20_share"].iloc[0])
    print(f"Top 20% of customers bring {top20:.1%} of the revenue ({billed:,} billed customers).")
    figures.show_figure(figures.pareto_figure(tables.for_region(snap.pareto, region_key), top20))

# %% [markdown]
# ## 3. Value x credit tier matrix
#
# Customers and revenue share per value tier x credit grade, with each cell's strategy from the
# playbook. Cells with fewer customers than the minimum group size show "<n".

# %%
if segments is None or segments.empty:
    print("no segments yet: no value x credit matrix")
elif snap.tier_strategies is None:
    print("no playbook: no value x credit matrix")
else:
    matrix = tables.tier_matrix(segments, snap.tier_strategies, min_group_size)
    figures.show_figure(figures.tier_heatmap_figure(segments, list(VALUE_TIERS), list(CREDIT_GRADES), min_group_size))
    display(tables.tier_grid(matrix))
    display(matrix.drop_duplicates("strategy")[["strategy", "why"]].set_index("strategy"))

# %% [markdown]
# ### Segment migration
#
# How customers moved between value tier / credit grade cells since the previous period (rows:
# last period, columns: this period; `new` opened, `left` closed in between).

# %%
if segments is None or previous_segments is None or previous_segments.empty:
    print(f"no segments as of {snap.previous_cutoff.date()}: migration not shown")
elif region_too_small:
    print("migration suppressed (group too small)")
else:
    print(f"From {snap.previous_cutoff.date()} to {snap.cutoff.date()}:")
    moves = tables.migration(segments, previous_segments, min_group_size)
    figures.show_figure(figures.migration_heatmap_figure(moves, min_group_size))
    display(moves)

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
    latent_mask = segments["latent_big_customer"].fillna(False).astype(bool)
    by_class = pd.concat({
        "big": tables.suppressed_counts(segments.loc[big, "customer_class"], min_group_size)["customers"],
        "latent big": tables.suppressed_counts(segments.loc[latent_mask, "customer_class"], min_group_size)["customers"],
    }, axis=1).fillna("0")
    display(by_class.rename_axis("customer class"))
    latent = segments[latent_mask]
    if latent.empty:
        print("no latent big customers flagged")
    else:
        top = latent.sort_values(["latent_big_rank", "customer_id"]).head(top_n)
        display(top[["customer_id", "latent_big_rank", "customer_class", "value_score", "potential_value",
                     "latent_big_reason"]].assign(latent_big_rank=top["latent_big_rank"].round().astype("Int64"))
                .round({"value_score": 2, "potential_value": 2}).set_index("customer_id"))

# %%
changes = tables.for_region(snap.big_customer_changes, region)
if changes is not None:
    if changes.empty:
        print(f"no account entered or left the big-customer list since {snap.previous_cutoff.date()}")
    else:
        print(f"Since {snap.previous_cutoff.date()}: {int(changes['change'].eq('entered').sum())} account(s) entered "
              f"the big-customer list, {int(changes['change'].ne('entered').sum())} left it:")
        display(changes.set_index("customer_id")[["change", "reason"]].head(top_n))
over = segments[segments["over_contract"].fillna(False).astype(bool)] if (
    segments is not None and "over_contract" in segments) else None
if over is not None and len(over):
    print(f"{len(over):,} account(s) draw more than they contracted (over-contract use, flagged for inspection).")

# %% [markdown]
# ### Industries and the efficiency audit
#
# Each industry's consumption, growth and load shape (all regions: industries are compared across
# the utility), and the big customers whose load factor is under their industry's median, ranked by
# what raising it would save: the same energy at the median load factor needs a lower peak, and
# each kW of peak costs the demand charge every month (`segment.efficiency_audit.demand_charge_per_kw_month`).

# %%
if snap.industry is None or snap.industry.empty:
    print("no industries in this snapshot")
else:
    display(tables.industry_table(snap.industry, min_group_size))
    audit = tables.for_region(snap.efficiency_audit, None)
    if audit is not None and region is not None and segments is not None:
        audit = audit[audit["customer_id"].astype(str).isin(set(segments["customer_id"].astype(str)))]
    if audit is None or audit.empty:
        print("no big customer is under its industry's median load factor (among enough peers)")
    else:
        print(f"{len(audit):,} big customers under their industry's median load factor; the first {top_n}:")
        display(tables.efficiency_audit_table(audit, top_n))

# %% [markdown]
# ### Big-customer cards
#
# One card per big customer (the largest by revenue first): capacity and tariff, load shape, value
# tier and credit grade, consumption and its trend, load factor against its industry, service
# events and the actions planned for it this period.

# %%
if segments is None or not segments["big_customer"].fillna(False).astype(bool).any():
    print("no big customers")
else:
    cards_html, n_big = cards.big_customer_cards(segments, snap.features, plan, snap.industry_peers, top_n)
    print(f"{n_big:,} big customers; the cards of the first {min(top_n, n_big)} by revenue:")
    display(HTML(cards_html))

# %% [markdown]
# ## 5. Load-shape segments
#
# Mean normalized profile per load shape (1 = the mean; by hour of the day for customers with
# interval readings, by month for the others), with the 10-90% band.

# %%
profiles = snap.profiles
if segments is None or segments.empty:
    print("no segments yet: no load-shape counts")
else:
    display(tables.suppressed_counts(segments["load_shape"], min_group_size).rename_axis("load shape"))
if profiles is None or profiles.empty:
    print("no load-shape profiles yet")
else:
    sizes = profiles.groupby("load_shape")["n_customers"].max()
    shown = sorted(sizes[sizes >= min_group_size].index)
    hidden = sorted(set(sizes.index) - set(shown))
    if hidden:
        print(f"profiles of {len(hidden)} shape(s) with fewer than {min_group_size} customers not shown")
    if shown:
        figures.show_figure(figures.load_shapes_figure(profiles, shown, sizes, " (all regions)" if region else ""))

# %% [markdown]
# How the shapes were chosen: every clustering candidate (shape family x algorithm x number of
# shapes k) is judged by its validity indices and its bootstrap stability; the rule in
# `powerlens.segmentation.clustering` picks one per family. The chosen and the next best:

# %%
candidates = tables.clustering_comparison(snap.clustering_candidates)
if candidates.empty:
    print("no clustering comparison yet (run the segment stage)")
else:
    display(candidates.set_index(["family", "algorithm", "k"]))

# %% [markdown]
# ## 6. Risk lists
#
# The riskiest customers per task at the period's end, with the reasons behind each score. The
# probability is the model's calibrated chance of the event in the label window, shown with the
# precision it has (whole percents, one decimal below 10%, "< 1%" and "> 99%" at the ends). The
# model of each task learned only from label windows that ended before the period's end (see
# model health).

# %%
for task in tasks:
    task_scores = None if scores is None else scores[scores["task"] == task]
    if task_scores is None or task_scores.empty:
        print(f"no scores for {task} yet")
        continue
    display_top = tables.risk_list(task_scores, top_n)
    print(f"{task}: top {len(display_top)} of {tables.count_text(len(task_scores), min_group_size)} scored customers")
    display(display_top)
if scores is not None and len(scores) and not region_too_small and snap.actions is not None:
    acting = snap.actions.dropna(subset=["task"]).groupby("task")["capacity"].sum().astype(int).to_dict()
    figures.show_figure(figures.score_distributions_figure(scores, acting, tasks))

# %% [markdown]
# ## 7. Action plan
#
# Per-customer actions from the playbook, ranked and capped at each team's capacity per period
# (the full list is in actions.csv next to this report).

# %%
if not has_playbook:
    print("no playbook: no action plan")
elif segments is None:
    print("no segments for this period: no action plan")
else:
    figures.show_figure(figures.plan_capacity_figure(plan, snap.actions))
    display(tables.action_summary(plan, snap.actions))
    if plan["holdout"].any():
        print("holdout = drawn at random from the list and left untreated on purpose, so that the "
              "action's effect can be measured next period")
    rank_by = snap.actions.set_index("action")["rank_by"].to_dict()
    for name, rows in plan.groupby("action", sort=False):
        print(f"{name}: first {min(top_n, len(rows))} of {tables.count_text(len(rows), min_group_size)}")
        first = rows.head(top_n).drop(columns=["action", "region"])
        display(first.assign(priority_score=tables.priority_text(first["priority_score"], rank_by.get(name)))
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
review = tables.for_region(snap.review, region_key)
if not has_playbook:
    print("no playbook: nothing to review")
elif region_too_small:
    print("review suppressed (group too small)")
elif review is None or review.empty:
    print(f"no action plan as of {snap.previous_cutoff.date()} to review "
          "(its segments or scores could not be computed)")
else:
    print(f"Plan of {snap.previous_cutoff.date()}, outcomes from {snap.previous_cutoff.date()} "
          f"to {snap.cutoff.date()}:")
    shown = review.drop(columns=["_group", "_n", "_hits", "region"]).assign(
        rate=review["rate"].map(lambda r: "–" if pd.isna(r) else f"{r:.1%}"))
    display(shown.set_index(["action", "group"]))
    for row in tables.for_region(snap.review_readings, region_key).itertuples(index=False):
        print(f"{row.action}: {row.reading}")
    unmeasured = snap.actions.loc[snap.actions["outcome"].isna(), "action"].tolist()
    if unmeasured:
        print(f"no outcome defined in the playbook for: {', '.join(unmeasured)}")

# %% [markdown]
# ## 9. Model health
#
# Validation metrics of each model family per risk task from the last training (the champion
# scores the latest period), which model scored this period and what it learned from, and how
# far the scores drifted since the previous period (the same model on both periods' customers).

# %%
comparison, decisions = snap.model_comparison, manifest.get("decisions", {})
if comparison is None or comparison.empty:
    print("no model metrics yet")
else:
    figures.show_figure(figures.model_health_figure(comparison, snap.drift, tasks))
    display(tables.model_comparison(comparison, min_group_size))
    for task, decision in decisions.items():
        print(f"{task}: {decision}")
    for task in tasks:
        if task not in decisions:
            print(f"no model metrics for {task} yet")
if snap.model_sources is not None and not snap.model_sources.empty:
    print(f"Models that scored {period} (as of {snap.cutoff.date()}):")
    display(snap.model_sources.set_index("task").round(3))
for note in manifest.get("previous_notes", []):
    print(f"as of {snap.previous_cutoff.date()}: {note}")
if snap.drift is None or snap.drift.empty:
    print("no previous-period scores: score drift not shown")
else:
    print(f"Score drift of each model from {snap.previous_cutoff.date()} to {snap.cutoff.date()}:")
    display(tables.score_drift(snap.drift))

# %%
# 10. Regions: shown only when the data has the load per region (the regional stage's analysis in
# the snapshot); a utility without region_load gets no regional section
from IPython.display import Markdown  # noqa: E402

regional_summary = snap.regional_summary
has_regional = regional_summary is not None and not regional_summary.empty
regional_monthly = snap.regional_monthly
shown_regions = tables.regions_in(regional_summary, region) if has_regional else []
if has_regional:
    display(Markdown(
        "## 10. Regions: load, growth, line loss and forecasts\n\n"
        "The load the system records per region (SCADA or the metering system), per month: energy, "
        "peak, load factor (mean load over peak load), weather-normalized growth (this month's "
        "energy at last year's weather against the same month a year earlier), new-load events "
        "(steps in a region's load at average weather), and line loss (the share of the region's "
        "load that was not billed: technical losses and theft) next to its theft scores. All over "
        "the last 12 months up to the period, unless said otherwise."))
    for note in manifest.get("regional_notes", []):
        print(note)
    if region is not None and str(region) not in shown_regions:
        print(f"region {region} has no load of its own in the regional analysis: the system's rows are shown")
    display(tables.region_table(regional_summary, shown_regions, min_group_size, top_n))
    figures.show_figure(figures.regional_load_figure(regional_monthly, shown_regions),
                        alt="Monthly energy and peak per region: " + ", ".join(shown_regions))
elif manifest.get("regional_notes"):
    for note in manifest["regional_notes"]:
        print(note)

# %%
if has_regional:
    display(Markdown("### Growth and load factor\n\n"
                     "Growth per month with the weather taken out (lines; the system in black), and "
                     "the load factor of the last 12 months (bars: the closer to 1, the flatter "
                     "the load and the better the network is used)."))
    figures.show_figure(figures.growth_load_factor_figure(regional_summary, regional_monthly, shown_regions),
                        alt="Weather-normalized growth per month and load factor per region: "
                        + ", ".join(shown_regions))

# %%
if has_regional and any(r != "total" for r in shown_regions):
    display(Markdown("### Line loss and theft\n\n"
                     "Line loss of the last 12 months against the mean theft score of the region's "
                     "open accounts (this period's theft model). A region whose loss is high for its "
                     "network with many accounts on the theft list is where inspections recover the "
                     "most; a high loss with low scores points at the network (technical losses) or "
                     "at theft the model does not see."))
    figures.show_figure(figures.line_loss_theft_figure(regional_summary, shown_regions, min_group_size),
                        alt="Line loss against mean theft score per region: " + ", ".join(
                            r for r in shown_regions if r != "total"))

# %%
if has_regional and snap.regional_sales is not None and not snap.regional_sales.empty:
    display(Markdown("### Sales per customer class\n\n"
                     "Billed kWh of the last 12 months per region and customer class, its share of the "
                     "region and its change on the 12 months before (not weather-normalized). Classes "
                     "with fewer customers than the minimum group size show no kWh."))
    display(tables.sales_table(snap.regional_sales, shown_regions, min_group_size))

# %%
if has_regional:
    display(Markdown("### New-load events\n\n"
                     "Lasting steps in a region's load at average weather (a large new connection, a "
                     "plant that closed), with the level before and after."))
    steps_shown = tables.steps_table(snap.regional_steps, shown_regions)
    if steps_shown.empty:
        print(f"no new-load step detected up to {snap.cutoff.date()}")
    else:
        display(steps_shown)

# %%
forecast_hourly = snap.forecast_hourly
if has_regional and forecast_hourly is not None and not forecast_hourly.empty:
    display(Markdown("### Last week's forecast against what happened\n\n"
                     "The hourly forecast made a week before the period's end, from the load before "
                     "it, against the load that followed (black), with its 80% interval; and the "
                     "forecast of the week ahead. The regions add up to the system's forecast."))
    hourly_regions = tables.regions_in(forecast_hourly, region)
    accuracy = snap.forecast_accuracy
    if accuracy is not None and not accuracy.empty:
        origin = pd.Timestamp(accuracy["origin"].max())
        print(f"Forecast of {origin.date()} for the 7 days after it, against what happened:")
        display(tables.forecast_accuracy_table(accuracy[accuracy["origin"] == accuracy["origin"].max()],
                                               hourly_regions))
    figures.show_figure(figures.forecast_week_figure(forecast_hourly, hourly_regions, snap.cutoff),
                        alt="Hourly load against last week's forecast and the week-ahead forecast with 80% "
                        "intervals: " + ", ".join(hourly_regions))
    if snap.forecast_backtest is not None and not snap.forecast_backtest.empty:
        print("How the forecast models did in the rolling-origin backtest (the weeks before, actual weather):")
        display(tables.backtest_table(snap.forecast_backtest))

# %%
forecast_monthly = snap.forecast_monthly
if has_regional and forecast_monthly is not None and not forecast_monthly.empty:
    display(Markdown("### The 12-month outlook\n\n"
                     "Monthly energy per region for the next 12 months under weather drawn from past "
                     "years (ex-ante), with its 80% interval, against the last 12 months; and what "
                     "drives the change: the region's growth with the weather taken out, and the "
                     "new-load steps of the last 12 months, which count for a full year in the next."))
    outlook_regions = tables.regions_in(forecast_monthly, region)
    months = sorted(forecast_monthly["month"].astype(str).unique())
    print(f"Outlook {months[0]} to {months[-1]}:")
    if snap.forecast_outlook is not None and not snap.forecast_outlook.empty:
        display(tables.outlook_table(snap.forecast_outlook, outlook_regions))
    figures.show_figure(figures.outlook_figure(forecast_monthly, regional_monthly, outlook_regions),
                        alt="Monthly energy of the last 12 months and the 12-month outlook with 80% intervals: "
                        + ", ".join(outlook_regions))
