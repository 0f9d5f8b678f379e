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

# %% tags=["parameters"]
# The strategy report: what the customer base looks like this period, who matters, who is at
# risk, what to do next and why, and how last period's actions worked, in English or Chinese
# (`language`). It presents the period's snapshot (data/snapshots/<period>/, made by the
# pipeline's `snapshot` stage): it loads, formats and plots, and computes or writes nothing.
# Every heading, label and explanation comes from powerlens.report.i18n (headings are HTML with
# ids that are the same in both languages, so the contents and the summary link to them).
period = "2026-10"
snapshot_dir = "data/snapshots/2026-10"
region = None
top_n = 20
min_group_size = 10
language = "en"
currency = "CNY"

# %%
import warnings  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import HTML, display  # noqa: E402

from powerlens.report import cards, figures, summary, tables  # noqa: E402
from powerlens.report.i18n import check_language, heading, money, paragraph, t, word  # noqa: E402
from powerlens.rules import CREDIT_GRADES, TASKS, VALUE_TIERS  # noqa: E402
from powerlens.snapshots import ALL_REGIONS, load_snapshot  # noqa: E402

warnings.filterwarnings("ignore")
language = check_language(language)
figures.use_language(language)
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})
lang = language


def say(key: str, **fmt) -> None:
    """A paragraph of the report's prose, in its language (text escaped)."""
    display(HTML(paragraph(t(key, lang, **fmt))))


def note(text: str) -> None:
    """A paragraph of text from the snapshot (the pipeline's own notes), escaped."""
    display(HTML(paragraph(text, css="pl-note")))


def head(key: str, level: int = 2) -> None:
    display(HTML(heading(key, lang, level)))


def show(frame: pd.DataFrame, max_rows: int | None = None, index: bool = True) -> None:
    """A curated table: columns in words, in the report's language, never truncated by pandas."""
    display(HTML(tables.html_table(frame, lang, max_rows=max_rows, index=index)))


snap = load_snapshot(snapshot_dir)
manifest = snap.manifest
# the derived tasks first, then any task a source labels (e.g. acorn_group)
tasks = list(TASKS) + sorted(set(snap.scores["task"]) - set(TASKS)) if snap.scores is not None else list(TASKS)
region_key = region if region is not None else ALL_REGIONS
segments = tables.for_region(snap.segments, region)
previous_segments = tables.for_region(snap.segments_previous, region)
scores = tables.for_region(snap.scores, region)
plan = tables.for_region(snap.plan, region)
region_too_small = region is not None and (segments is None or len(segments) < min_group_size)
has_playbook = manifest.get("playbook", False)
cutoff, previous_cutoff = str(snap.cutoff.date()), str(snap.previous_cutoff.date())

display(HTML(tables.REPORT_STYLE))
display(HTML(heading("sec-top", lang, 1, period=period, region=region or t("all_regions", lang))))
say("intro")
say("period_line", period=period, cutoff=cutoff, region=region or t("all_regions", lang))
if region is not None and region not in manifest["regions"]:
    say("region_unknown", region=region, regions=", ".join(manifest["regions"]))
for text in manifest["notes"]:
    note(text)
if region_too_small:
    say("region_too_small", region=region, n=min_group_size)
if not has_playbook:
    say("no_playbook")

# %%
head("sec-summary")
display(HTML(summary.summary_html(summary.executive_summary(snap, period, region, region_key, lang, currency), lang)))
display(HTML(summary.contents_html(with_regions=snap.regional_summary is not None, language=lang)))

# %%
head("sec-kpis")
say("kpis_intro")
kpis = tables.for_region(snap.kpis, region_key)
kpi_cols = [c for c in kpis.columns if c not in ("period", "region") and kpis[c].notna().any()]
if region_too_small:
    say("kpis_suppressed")
elif not kpi_cols:
    say("no_kpis")
else:
    if region is not None:
        say("kpis_region_against_company", region=region)
    show(tables.kpi_table(kpis, period, kpi_cols, lang, currency,
                          company=snap.kpis if region is not None else None))
    figures.show_figure(figures.kpi_trends_figure(kpis, kpi_cols, period, language=lang))
    if region is not None:
        figures.show_figure(figures.region_share_figure(snap.kpis, region, period, kpi_cols, lang))

# %%
head("sec-service", 3)
say("service_intro")
service_kpis = snap.service_kpis
if service_kpis is None or service_kpis.empty:
    say("no_service_kpis")
else:
    show(tables.service_kpi_table(service_kpis, period, region, min_group_size))
    items = snap.rectification
    if items is not None and len(items):
        say("rectification_now", period=period)
        show(tables.rectification_table(items, region, lang), max_rows=top_n, index=False)
    else:
        say("no_rectification", period=period)
    follow = snap.rectification_follow_up
    if follow is not None and len(follow):
        say("rectification_follow_up")
        show(tables.rectification_table(follow, region, lang), max_rows=top_n, index=False)
trend = snap.payment_channel_trend
if trend is not None and len(trend):
    show(tables.channel_trend_table(trend, region), max_rows=3 * top_n)
    payers = tables.for_region(snap.counter_payers, region)
    if payers is not None and len(payers):
        say("counter_payers", n=f"{len(payers):,}", shown=min(top_n, len(payers)))
        show(tables.counter_payers_table(payers), max_rows=top_n)

# %%
head("sec-pareto")
say("pareto_intro")
pareto_summary = tables.for_region(snap.pareto_summary, region_key)
billed = int(pareto_summary["customers"].iloc[0]) if len(pareto_summary) else 0
if billed == 0:
    say("no_pareto")
elif billed < min_group_size:
    say("pareto_suppressed", n=min_group_size)
else:
    top20 = float(pareto_summary["top20_share"].iloc[0])
    say("pareto_top20", share=f"{top20:.1%}", n=f"{billed:,}")
    figures.show_figure(figures.pareto_figure(tables.for_region(snap.pareto, region_key), top20, language=lang))

# %%
head("sec-tiers")
say("tiers_intro")
if segments is None or segments.empty:
    say("no_segments_matrix")
elif snap.tier_strategies is None:
    say("no_playbook_matrix")
else:
    matrix = tables.tier_matrix(segments, snap.tier_strategies, min_group_size, lang)
    figures.show_figure(figures.tier_heatmap_figure(segments, list(VALUE_TIERS), list(CREDIT_GRADES), min_group_size,
                                                    language=lang))
    show(tables.tier_grid(matrix, lang))
    show(tables.strategy_table(matrix))

# %%
head("sec-migration", 3)
say("migration_intro")
if segments is None or previous_segments is None or previous_segments.empty:
    say("no_migration", date=previous_cutoff)
elif region_too_small:
    say("migration_suppressed")
else:
    say("migration_dates", start=previous_cutoff, end=cutoff)
    moves = tables.migration(segments, previous_segments, min_group_size)
    figures.show_figure(figures.migration_heatmap_figure(moves, min_group_size, language=lang))
    show(moves)

# %%
head("sec-tou", 3)
tou_load_shift = manifest.get("tou_load_shift")  # segment.tou_offer.load_shift of the run
say("tou_intro", shift="–" if tou_load_shift is None else f"{tou_load_shift:.0%}")
if segments is None or segments.empty or "tou_expected_saving" not in segments:
    say("no_segments_matrix")
elif segments["tou_expected_saving"].isna().all():
    say("no_tou")
elif region_too_small:
    say("migration_suppressed")
else:
    tou_saving = segments["tou_expected_saving"].where(segments["tou_expected_saving"] > 0)
    say("tou_line", n=f"{int(tou_saving.notna().sum()):,}", saving=money(float(tou_saving.sum()), currency))
    figures.show_figure(figures.tou_saving_figure(segments, min_group_size, currency, language=lang))
    show(tables.tou_table(segments, snap.features, min_group_size, currency))  # joined to the region's segments

# %%
head("sec-big")
say("big_intro")
if segments is None or segments.empty:
    say("no_big")
else:
    big = segments["big_customer"].fillna(False).astype(bool)
    rev = pd.to_numeric(segments["revenue_12m"], errors="coerce").fillna(0.0)
    if big.sum() >= min_group_size and rev.sum() > 0:
        say("big_share", n=f"{int(big.sum()):,}", share=f"{rev[big].sum() / rev.sum():.1%}")
    else:
        say("big_suppressed", n=min_group_size)
    latent_mask = segments["latent_big_customer"].fillna(False).astype(bool)
    by_class = pd.concat({
        "big": tables.suppressed_counts(segments.loc[big, "customer_class"], min_group_size)["customers"],
        "latent big": tables.suppressed_counts(segments.loc[latent_mask, "customer_class"], min_group_size)["customers"],
    }, axis=1).fillna("0")
    show(by_class.rename_axis("customer class"))
    latent = segments[latent_mask]
    if latent.empty:
        say("no_latent")
    else:
        say("latent_top", shown=min(top_n, len(latent)))
        show(tables.latent_table(latent, top_n))

# %%
changes = tables.for_region(snap.big_customer_changes, region)
if changes is not None:
    if changes.empty:
        say("no_big_changes", date=previous_cutoff)
    else:
        say("big_changes", date=previous_cutoff, entered=int(changes["change"].eq("entered").sum()),
            left=int(changes["change"].ne("entered").sum()))
        show(tables.big_changes_table(changes), max_rows=top_n)
over = segments[segments["over_contract"].fillna(False).astype(bool)] if (
    segments is not None and "over_contract" in segments) else None
if over is not None and len(over):
    say("over_contract", n=f"{len(over):,}")

# %%
head("sec-industries", 3)
say("industries_intro")
if snap.industry is None or snap.industry.empty:
    say("no_industries")
else:
    show(tables.industry_table(snap.industry, min_group_size))
    audit = tables.for_region(snap.efficiency_audit, None)
    if audit is not None and region is not None and segments is not None:
        audit = audit[audit["customer_id"].astype(str).isin(set(segments["customer_id"].astype(str)))]
    if audit is None or audit.empty:
        say("no_audit")
    else:
        say("audit_top", n=f"{len(audit):,}", shown=min(top_n, len(audit)))
        show(tables.efficiency_audit_table(audit, top_n, currency))

# %%
head("sec-cards", 3)
say("cards_intro")
if segments is None or not segments["big_customer"].fillna(False).astype(bool).any():
    say("no_big_customers")
else:
    cards_html, n_big = cards.big_customer_cards(segments, snap.features, plan, snap.industry_peers, top_n,
                                                 language=lang, currency=currency)
    say("cards_count", n=f"{n_big:,}", shown=min(top_n, n_big))
    display(HTML(cards_html))

# %%
head("sec-shapes")
say("shapes_intro")
profiles = snap.profiles
if segments is None or segments.empty:
    say("no_shape_counts")
else:
    show(tables.suppressed_counts(segments["load_shape"], min_group_size).rename_axis("load shape"))
if profiles is None or profiles.empty:
    say("no_profiles")
else:
    sizes = profiles.groupby("load_shape")["n_customers"].max()
    shown = sorted(sizes[sizes >= min_group_size].index)
    hidden = sorted(set(sizes.index) - set(shown))
    if hidden:
        say("profiles_hidden", n=len(hidden), min=min_group_size)
    if shown:
        figures.show_figure(figures.load_shapes_figure(profiles, shown, sizes, bool(region), language=lang))
say("clustering_intro")
candidates = tables.clustering_comparison(snap.clustering_candidates)
if candidates.empty:
    say("no_clustering")
else:
    show(candidates.set_index(["family", "algorithm", "k"]))

# %%
head("sec-risks")
say("risks_intro")
for task in tasks:
    task_scores = None if scores is None else scores[scores["task"] == task]
    if task_scores is None or task_scores.empty:
        say("no_scores", task=word(task, lang))
        continue
    display_top = tables.risk_list(task_scores, top_n)
    say("risk_list", task=word(task, lang), shown=len(display_top),
        n=tables.count_text(len(task_scores), min_group_size))
    show(display_top)
if scores is not None and len(scores) and not region_too_small and snap.actions is not None:
    acting = snap.actions.dropna(subset=["task"]).groupby("task")["capacity"].sum().astype(int).to_dict()
    figures.show_figure(figures.score_distributions_figure(scores, acting, tasks, language=lang))

# %%
head("sec-plan")
say("plan_intro")
if not has_playbook:
    say("no_plan")
elif segments is None:
    say("no_plan_segments")
else:
    figures.show_figure(figures.plan_capacity_figure(plan, snap.actions, language=lang))
    show(tables.action_summary(plan, snap.actions, lang))
    if plan["holdout"].any():
        say("holdout_explained")
    rank_by = snap.actions.set_index("action")["rank_by"].to_dict()
    for name, rows in plan.groupby("action", sort=False):
        say("plan_list", action=word(name, lang), shown=min(top_n, len(rows)),
            n=tables.count_text(len(rows), min_group_size))
        show(tables.plan_list(rows, top_n, rank_by.get(name), currency))
    if plan.empty:
        say("plan_empty")

# %%
head("sec-review")
say("review_intro")
review = tables.for_region(snap.review, region_key)
if not has_playbook:
    say("no_review_playbook")
elif region_too_small:
    say("review_suppressed")
elif review is None or review.empty:
    say("no_review", date=previous_cutoff)
else:
    say("review_dates", date=previous_cutoff, end=cutoff)
    show(tables.review_table(review))
    for row in tables.for_region(snap.review_readings, region_key).itertuples(index=False):
        note(f"{word(row.action, lang)}: {row.reading}")
    unmeasured = snap.actions.loc[snap.actions["outcome"].isna(), "action"].tolist()
    if unmeasured:
        say("review_unmeasured", actions=", ".join(word(a, lang) for a in unmeasured))

# %%
head("sec-health")
say("health_intro")
comparison, decisions = snap.model_comparison, manifest.get("decisions", {})
if comparison is None or comparison.empty:
    say("no_model_metrics")
else:
    figures.show_figure(figures.model_health_figure(comparison, snap.drift, tasks, language=lang))
    show(tables.model_comparison(comparison, min_group_size))
    for task, decision in decisions.items():
        note(f"{word(task, lang)}: {decision}")
    for task in tasks:
        if task not in decisions:
            say("no_task_metrics", task=word(task, lang))
if snap.model_sources is not None and not snap.model_sources.empty:
    say("model_sources", period=period, date=cutoff)
    show(tables.model_sources_table(snap.model_sources))
for text in manifest.get("previous_notes", []):
    note(f"{previous_cutoff}: {text}")
if snap.drift is None or snap.drift.empty:
    say("no_drift")
else:
    say("drift", start=previous_cutoff, end=cutoff)
    show(tables.score_drift(snap.drift))

# %%
# Regions: shown only when the data has the load per region (the regional stage's analysis in
# the snapshot); a utility without region_load gets no regional section
regional_summary = snap.regional_summary
has_regional = regional_summary is not None and not regional_summary.empty
regional_monthly = snap.regional_monthly
shown_regions = tables.regions_in(regional_summary, region) if has_regional else []
if has_regional:
    head("sec-regions")
    say("regions_intro")
    for text in manifest.get("regional_notes", []):
        note(text)
    if region is not None and str(region) not in shown_regions:
        say("region_no_load", region=region)
    show(tables.region_table(regional_summary, shown_regions, min_group_size, top_n))
    figures.show_figure(figures.regional_load_figure(regional_monthly, shown_regions, language=lang),
                        alt=t("alt_regional_load", lang, regions=", ".join(shown_regions)))
elif manifest.get("regional_notes"):
    for text in manifest["regional_notes"]:
        note(text)

# %%
if has_regional:
    head("sec-growth", 3)
    say("growth_intro")
    figures.show_figure(figures.growth_load_factor_figure(regional_summary, regional_monthly, shown_regions,
                                                          language=lang),
                        alt=t("alt_growth", lang, regions=", ".join(shown_regions)))

# %%
if has_regional and any(r != "total" for r in shown_regions):
    head("sec-loss", 3)
    say("loss_intro")
    figures.show_figure(figures.line_loss_theft_figure(regional_summary, shown_regions, min_group_size, language=lang),
                        alt=t("alt_loss", lang, regions=", ".join(r for r in shown_regions if r != "total")))

# %%
if has_regional and snap.regional_sales is not None and not snap.regional_sales.empty:
    head("sec-sales", 3)
    say("sales_intro")
    show(tables.sales_table(snap.regional_sales, shown_regions, min_group_size))

# %%
if has_regional:
    head("sec-steps", 3)
    say("steps_intro")
    steps_shown = tables.steps_table(snap.regional_steps, shown_regions)
    if steps_shown.empty:
        say("no_steps", date=cutoff)
    else:
        show(steps_shown, max_rows=top_n)

# %%
forecast_hourly = snap.forecast_hourly
if has_regional and forecast_hourly is not None and not forecast_hourly.empty:
    head("sec-forecast", 3)
    say("forecast_intro")
    hourly_regions = tables.regions_in(forecast_hourly, region)
    accuracy = snap.forecast_accuracy
    if accuracy is not None and not accuracy.empty:
        origin = pd.Timestamp(accuracy["origin"].max())
        say("forecast_accuracy", date=str(origin.date()))
        show(tables.forecast_accuracy_table(accuracy[accuracy["origin"] == accuracy["origin"].max()],
                                            hourly_regions))
    figures.show_figure(figures.forecast_week_figure(forecast_hourly, hourly_regions, snap.cutoff, language=lang),
                        alt=t("alt_forecast_week", lang, regions=", ".join(hourly_regions)))
    if snap.forecast_backtest is not None and not snap.forecast_backtest.empty:
        say("backtest")
        show(tables.backtest_table(snap.forecast_backtest))

# %%
forecast_monthly = snap.forecast_monthly
if has_regional and forecast_monthly is not None and not forecast_monthly.empty:
    head("sec-outlook", 3)
    say("outlook_intro")
    outlook_regions = tables.regions_in(forecast_monthly, region)
    months = sorted(forecast_monthly["month"].astype(str).unique())
    say("outlook_months", start=months[0], end=months[-1])
    if snap.forecast_outlook is not None and not snap.forecast_outlook.empty:
        show(tables.outlook_table(snap.forecast_outlook, outlook_regions, lang))
    figures.show_figure(figures.outlook_figure(forecast_monthly, regional_monthly, outlook_regions, language=lang),
                        alt=t("alt_outlook", lang, regions=", ".join(outlook_regions)))
