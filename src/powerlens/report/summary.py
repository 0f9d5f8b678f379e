"""The report's executive summary: a few sentences generated from the period's snapshot (what
changed against last month and last year, the biggest risks and actions, model-health and
service warnings, the fastest-growing region), each linking to the section that shows it.

Pure: snapshot tables in, (sentence, section id) pairs out, in English or Chinese
(`powerlens.report.i18n`); the notebook renders them as HTML with the text escaped. Counts below
the minimum group size are not said.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from powerlens.report.i18n import energy, money, t, word

# the sections' ids: the same in every language (i18n.heading writes them)
KPI_ANCHOR = "sec-kpis"
SERVICE_ANCHOR = "sec-service"
PLAN_ANCHOR = "sec-plan"
HEALTH_ANCHOR = "sec-health"
REGIONS_ANCHOR = "sec-regions"
PSI_WARNING = 0.2  # population stability index above which scores have shifted


def _change(now: float, before: float | None) -> str | None:
    if before is None or pd.isna(before) or before == 0 or pd.isna(now):
        return None
    return f"{now / before - 1:+.1%}"


def _kpi_sentences(kpis: pd.DataFrame | None, period: str, language: str, currency: str) -> list[tuple[str, str]]:
    if kpis is None or kpis.empty or period not in set(kpis["period"]):
        return []
    k = kpis.set_index("period")
    now = k.loc[period]
    last_month, last_year = str(pd.Period(period, "M") - 1), str(pd.Period(period, "M") - 12)
    out = []
    if pd.notna(now.get("kwh")):
        sentence = t("sum_billed", language, period=period, energy=energy(now["kwh"]))
        if pd.notna(now.get("revenue")):
            sentence += t("sum_revenue", language, revenue=money(now["revenue"], currency))
        changes = []
        for ref in (last_month, last_year):
            if ref in k.index:
                c = _change(now["kwh"], k.loc[ref, "kwh"])
                if c:
                    changes.append(t("sum_on_last_month", language, change=c) if ref == last_month
                                   else t("sum_on_period", language, change=c, period=ref))
        if changes:
            sentence += t("sum_changes", language, changes=t("sum_join", language).join(changes))
        out.append((sentence + t("sum_end", language), KPI_ANCHOR))
    if pd.notna(now.get("on_time_rate")):
        sentence = t("sum_on_time", language, rate=f"{now['on_time_rate']:.1%}")
        if last_month in k.index and pd.notna(k.loc[last_month, "on_time_rate"]):
            points = (now["on_time_rate"] - k.loc[last_month, "on_time_rate"]) * 100
            sentence += t("sum_on_time_change", language, points=f"{points:+.1f}")
        if pd.notna(now.get("arrears_amount")):
            sentence += t("sum_arrears", language, amount=money(now["arrears_amount"], currency))
            c = _change(now["arrears_amount"], k.loc[last_month, "arrears_amount"] if last_month in k.index else None)
            if c:
                sentence += t("sum_arrears_change", language, change=c)
        out.append((sentence + t("sum_end", language), KPI_ANCHOR))
    return out


def _plan_sentences(plan: pd.DataFrame | None, actions: pd.DataFrame | None, language: str,
                    currency: str) -> list[tuple[str, str]]:
    if plan is None or plan.empty or actions is None or actions.empty:
        return []
    acted = plan[~plan["holdout"].astype(bool)]
    money_ranked = set(actions.loc[actions["rank_by"].eq("expected_revenue"), "action"])
    counts = acted["action"].value_counts()
    listed = t("sum_join", language).join(t("sum_plan_item", language, n=f"{n:,}", action=word(a, language))
                                          for a, n in counts.items())
    out = [(t("sum_plan", language, n=f"{len(acted):,}", listed=listed), PLAN_ANCHOR)]
    valued = acted[acted["action"].isin(money_ranked)].groupby("action")["priority_score"].sum().sort_values(
        ascending=False)
    if len(valued):
        top, value = valued.index[0], valued.iloc[0]
        out.append((t("sum_plan_top", language, action=word(top, language), n=f"{counts[top]:,}",
                      value=money(value, currency)), PLAN_ANCHOR))
    return out


def _health_sentence(drift: pd.DataFrame | None, language: str) -> list[tuple[str, str]]:
    if drift is None or drift.empty or "PSI" not in drift:
        return []
    shifted = drift[drift["PSI"] >= PSI_WARNING]
    if len(shifted):
        names = t("sum_join", language).join(t("sum_shifted_item", language, task=word(task, language), psi=f"{p:.2f}")
                                             for task, p in zip(shifted["task"], shifted["PSI"], strict=True))
        return [(t("sum_shifted", language, names=names), HEALTH_ANCHOR)]
    return [(t("sum_stable", language, psi=PSI_WARNING), HEALTH_ANCHOR)]


def _service_sentence(items: pd.DataFrame | None, follow: pd.DataFrame | None, period: str,
                      language: str) -> list[tuple[str, str]]:
    if items is None:
        return []
    sentence = (t("sum_service_broken", language, n=len(items), period=period,
                  regions=", ".join(sorted(set(items["region"].astype(str))))) if len(items)
                else t("sum_service_ok", language, period=period))
    if follow is not None and len(follow):
        sentence += t("sum_service_follow", language, closed=int(follow["status"].eq("closed").sum()), n=len(follow))
    return [(sentence + t("sum_end", language), SERVICE_ANCHOR)]


def _region_sentence(summary: pd.DataFrame | None, language: str) -> list[tuple[str, str]]:
    if summary is None or summary.empty or "growth_yoy_weather_normalized" not in summary:
        return []
    regions = summary[summary["region"].astype(str).ne("total")].dropna(subset=["growth_yoy_weather_normalized"])
    if regions.empty:
        return []
    fastest = regions.sort_values(["growth_yoy_weather_normalized", "region"], ascending=[False, True]).iloc[0]
    return [(t("sum_region", language, region=fastest["region"],
               growth=f"{fastest['growth_yoy_weather_normalized']:+.1%}"), REGIONS_ANCHOR)]


def executive_summary(snap: Any, period: str, region: str | None, region_key: str, language: str = "en",
                      currency: str = "CNY") -> list[tuple[str, str]]:
    """(sentence, section id) pairs in the language, most important first (KPIs, plan, model
    health, service, regions); only what the snapshot holds."""
    from powerlens.report.tables import for_region

    sentences = _kpi_sentences(for_region(snap.kpis, region_key), period, language, currency)
    sentences += _plan_sentences(for_region(snap.plan, region), snap.actions, language, currency)
    sentences += _health_sentence(snap.drift, language)
    sentences += _service_sentence(for_region(snap.rectification, region),
                                   for_region(snap.rectification_follow_up, region), period, language)
    sentences += _region_sentence(snap.regional_summary, language)
    return sentences[:7]


def summary_html(sentences: list[tuple[str, str]], language: str = "en") -> str:
    """The summary as an HTML list; each sentence links to its section (text escaped)."""
    if not sentences:
        return f"<p>{escape(t('nothing_to_summarize', language))}</p>"
    see = escape(t("see", language))
    items = "".join(f'<li>{escape(text)} <a href="#{escape(anchor, quote=True)}">{see}</a></li>'
                    for text, anchor in sentences)
    return f'<ul class="pl-summary">{items}</ul>'


# the report's sections (id, subsections' catalog key and id); the regional one only with its data
SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (KPI_ANCHOR, [("contents_service", SERVICE_ANCHOR)]),
    ("sec-pareto", []),
    ("sec-tiers", [("contents_migration", "sec-migration"), ("contents_tou", "sec-tou")]),
    ("sec-big", [("contents_industries", "sec-industries"), ("contents_cards", "sec-cards")]),
    ("sec-shapes", []),
    ("sec-risks", []),
    (PLAN_ANCHOR, []),
    ("sec-review", []),
    (HEALTH_ANCHOR, []),
    (REGIONS_ANCHOR, []),
]


def contents_html(with_regions: bool, language: str = "en") -> str:
    """The table of contents: every section the report shows, linked to its id, in the language."""
    items = []
    for anchor, subsections in SECTIONS:
        if anchor == REGIONS_ANCHOR and not with_regions:
            continue
        title = t("contents_regions" if anchor == REGIONS_ANCHOR else anchor, language)
        sub = t("sum_join", language).join(f'<a href="#{escape(a, quote=True)}">{escape(t(key, language))}</a>'
                                           for key, a in subsections)
        items.append(f'<li><a href="#{escape(anchor, quote=True)}">{escape(title)}</a>'
                     + (f" ({sub})" if sub else "") + "</li>")
    label = escape(t("contents", language), quote=True)
    return (f'<nav aria-label="{label}"><h2 id="sec-contents">{escape(t("contents", language))}</h2>'
            f'<ul class="pl-contents">{"".join(items)}</ul></nav>')
