"""The report's executive summary: a few sentences generated from the period's snapshot (what
changed against last month and last year, the biggest risks and actions, model-health and
service warnings, the fastest-growing region), each linking to the section that shows it.

Pure: snapshot tables in, (sentence, anchor) pairs out; the notebook renders them as HTML with
the text escaped. Counts below the minimum group size are not said.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

KPI_ANCHOR = "1.-KPIs"
SERVICE_ANCHOR = "Service-quality-(95598)-and-payment-channels"
PLAN_ANCHOR = "7.-Action-plan"
HEALTH_ANCHOR = "9.-Model-health"
REGIONS_ANCHOR = "10.-Regions:-load,-growth,-line-loss-and-forecasts"
PSI_WARNING = 0.2  # population stability index above which scores have shifted


def _change(now: float, before: float | None) -> str | None:
    if before is None or pd.isna(before) or before == 0 or pd.isna(now):
        return None
    return f"{now / before - 1:+.1%}"


def _energy(kwh: float) -> str:
    return f"{kwh / 1e6:,.1f} GWh" if abs(kwh) >= 1e6 else f"{kwh / 1e3:,.0f} MWh"


def _kpi_sentences(kpis: pd.DataFrame | None, period: str) -> list[tuple[str, str]]:
    if kpis is None or kpis.empty or period not in set(kpis["period"]):
        return []
    k = kpis.set_index("period")
    now = k.loc[period]
    last_month, last_year = str(pd.Period(period, "M") - 1), str(pd.Period(period, "M") - 12)
    out = []
    if pd.notna(now.get("kwh")):
        parts = [f"In {period} the utility billed {_energy(now['kwh'])}"]
        if pd.notna(now.get("revenue")):
            parts[0] += f" and {now['revenue']:,.0f} of revenue"
        changes = []
        for label, ref in (("last month", last_month), (last_year, last_year)):
            if ref in k.index:
                c = _change(now["kwh"], k.loc[ref, "kwh"])
                if c:
                    changes.append(f"{c} on {label}")
        out.append((parts[0] + (f" (energy {', '.join(changes)})" if changes else "") + ".", KPI_ANCHOR))
    if pd.notna(now.get("on_time_rate")):
        sentence = f"{now['on_time_rate']:.1%} of the bills due were paid in full on time"
        if last_month in k.index and pd.notna(k.loc[last_month, "on_time_rate"]):
            points = (now["on_time_rate"] - k.loc[last_month, "on_time_rate"]) * 100
            sentence += f" ({points:+.1f} points on last month)"
        if pd.notna(now.get("arrears_amount")):
            sentence += f"; past-due arrears stand at {now['arrears_amount']:,.0f}"
            c = _change(now["arrears_amount"], k.loc[last_month, "arrears_amount"] if last_month in k.index else None)
            if c:
                sentence += f" ({c})"
        out.append((sentence + ".", KPI_ANCHOR))
    return out


def _plan_sentences(plan: pd.DataFrame | None, actions: pd.DataFrame | None) -> list[tuple[str, str]]:
    if plan is None or plan.empty or actions is None or actions.empty:
        return []
    acted = plan[~plan["holdout"].astype(bool)]
    money = set(actions.loc[actions["rank_by"].eq("expected_revenue"), "action"])
    counts = acted["action"].value_counts()
    listed = ", ".join(f"{n:,} {a.replace('_', ' ')}" for a, n in counts.items())
    out = [(f"The action plan lists {len(acted):,} customers: {listed}.", PLAN_ANCHOR)]
    valued = acted[acted["action"].isin(money)].groupby("action")["priority_score"].sum().sort_values(ascending=False)
    if len(valued):
        top, value = valued.index[0], valued.iloc[0]
        out.append((f"The largest by expected revenue is {top.replace('_', ' ')}: {counts[top]:,} customers, "
                    f"{value:,.0f} of expected revenue at stake.", PLAN_ANCHOR))
    return out


def _health_sentence(drift: pd.DataFrame | None) -> list[tuple[str, str]]:
    if drift is None or drift.empty or "PSI" not in drift:
        return []
    shifted = drift[drift["PSI"] >= PSI_WARNING]
    if len(shifted):
        names = ", ".join(f"{t} (PSI {p:.2f})" for t, p in zip(shifted["task"], shifted["PSI"], strict=True))
        return [(f"Risk scores shifted since last month for {names}: check the model before acting on its list.",
                 HEALTH_ANCHOR)]
    return [(f"Risk scores are stable against last month (population stability index below {PSI_WARNING} "
             "for every task).", HEALTH_ANCHOR)]


def _service_sentence(items: pd.DataFrame | None, follow: pd.DataFrame | None, period: str) -> list[tuple[str, str]]:
    if items is None:
        return []
    sentence = (f"{len(items)} service KPI(s) break their target in {period}"
                f" ({', '.join(sorted(set(items['region'].astype(str))))})" if len(items)
                else f"Every service KPI meets its target in {period}")
    if follow is not None and len(follow):
        sentence += f"; {int(follow['status'].eq('closed').sum())} of last month's {len(follow)} rectification items are closed"
    return [(sentence + ".", SERVICE_ANCHOR)]


def _region_sentence(summary: pd.DataFrame | None) -> list[tuple[str, str]]:
    if summary is None or summary.empty or "growth_yoy_weather_normalized" not in summary:
        return []
    regions = summary[summary["region"].astype(str).ne("total")].dropna(subset=["growth_yoy_weather_normalized"])
    if regions.empty:
        return []
    fastest = regions.sort_values(["growth_yoy_weather_normalized", "region"], ascending=[False, True]).iloc[0]
    return [(f"{fastest['region']} grows fastest: {fastest['growth_yoy_weather_normalized']:+.1%} a year, "
             "weather-normalized.", REGIONS_ANCHOR)]


def executive_summary(snap: Any, period: str, region: str | None, region_key: str) -> list[tuple[str, str]]:
    """(sentence, section anchor) pairs, most important first (KPIs, plan, model health,
    service, regions); only what the snapshot holds."""
    from powerlens.report.tables import for_region

    sentences = _kpi_sentences(for_region(snap.kpis, region_key), period)
    sentences += _plan_sentences(for_region(snap.plan, region), snap.actions)
    sentences += _health_sentence(snap.drift)
    sentences += _service_sentence(for_region(snap.rectification, region),
                                   for_region(snap.rectification_follow_up, region), period)
    sentences += _region_sentence(snap.regional_summary)
    return sentences[:7]


def summary_html(sentences: list[tuple[str, str]]) -> str:
    """The summary as an HTML list; each sentence links to its section (text escaped)."""
    if not sentences:
        return "<p>Nothing to summarize: the snapshot holds no KPIs, plan or scores yet.</p>"
    items = "".join(f'<li>{escape(text)} <a href="#{escape(anchor, quote=True)}">(see)</a></li>'
                    for text, anchor in sentences)
    return f'<ul class="pl-summary">{items}</ul>'


# the report's sections (heading, anchor; subsections in brackets); the regional one only with its data
SECTIONS = [
    ("1. KPIs", KPI_ANCHOR, [("service quality and payment channels", SERVICE_ANCHOR)]),
    ("2. Pareto curve of revenue", "2.-Pareto-curve-of-revenue", []),
    ("3. Value x credit tier matrix", "3.-Value-x-credit-tier-matrix", []),
    ("4. Big and latent-big customers", "4.-Big-and-latent-big-customers",
     [("industries", "Industries-and-the-efficiency-audit"), ("cards", "Big-customer-cards")]),
    ("5. Load-shape segments", "5.-Load-shape-segments", []),
    ("6. Risk lists", "6.-Risk-lists", []),
    ("7. Action plan", PLAN_ANCHOR, []),
    ("8. How the last actions worked", "8.-How-the-last-actions-worked", []),
    ("9. Model health", HEALTH_ANCHOR, []),
    ("10. Regions", REGIONS_ANCHOR, []),
]


def contents_html(with_regions: bool) -> str:
    """The table of contents: every section the report shows, linked to its anchor."""
    items = []
    for title, anchor, subsections in SECTIONS:
        if anchor == REGIONS_ANCHOR and not with_regions:
            continue
        sub = ", ".join(f'<a href="#{escape(a, quote=True)}">{escape(t)}</a>' for t, a in subsections)
        items.append(f'<li><a href="#{escape(anchor, quote=True)}">{escape(title)}</a>'
                     + (f" ({sub})" if sub else "") + "</li>")
    return f'<nav aria-label="Contents"><ol class="pl-contents">{"".join(items)}</ol></nav>'
