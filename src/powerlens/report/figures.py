"""The report's figures: every plotting function in one place (the report notebook and the
segment stage's MLflow figure use them). They draw what they are given and compute nothing
that the snapshot does not already hold. None switches the matplotlib backend: entry points
do (`jobs.common.configure_process`)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens.report.i18n import check_language, t, word

# Noto Sans CJK SC (SIL Open Font License), as the mplfonts package installs it
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT_FAMILY = "Noto Sans CJK SC"


def cjk_font_path() -> Path:
    """The font file that draws the report's Chinese: Noto Sans CJK SC from the `mplfonts`
    package (a project dependency, so a fresh machine needs no system font). The HTML can embed
    a subset of the same file."""
    import importlib.util

    spec = importlib.util.find_spec("mplfonts")  # located, not imported (no side effects)
    if spec is None or not spec.submodule_search_locations:
        from powerlens.errors import MissingInput

        raise MissingInput("the mplfonts package (the report's Chinese font) is not installed: run `uv sync`")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / CJK_FONT_FILE
    if not path.exists():
        from powerlens.errors import MissingInput

        raise MissingInput(f"the report's Chinese font is missing: {path}")
    return path


def use_language(language: str) -> None:
    """Set matplotlib up to draw the language: for Chinese, register the CJK font and put it
    after the default family as the fallback for the glyphs that family lacks (digits and Latin
    letters keep their usual look)."""
    import matplotlib
    from matplotlib import font_manager

    check_language(language)
    if language == "zh":
        path = cjk_font_path()
        if CJK_FONT_FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
            font_manager.fontManager.addfont(str(path))
        # matplotlib falls back glyph by glyph along font.family (not along a generic family's list)
        matplotlib.rcParams["font.family"] = ["DejaVu Sans", CJK_FONT_FAMILY]
    else:
        matplotlib.rcParams["font.family"] = ["sans-serif"]


def kpi_trends_figure(kpis: pd.DataFrame, columns: list[str], period: str, labels: dict[str, str] | None = None,
                      language: str = "en"):
    """Small multiples: one KPI per panel over the months up to the period."""
    import matplotlib.pyplot as plt

    ncols = 4
    nrows = -(-len(columns) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(14, 3 * nrows), squeeze=False)
    for ax, col in zip(axes.flat, columns, strict=False):
        ax.plot(kpis["period"], kpis[col], marker="o")
        ax.set_title((labels or {}).get(col, word("active accounts" if col == "customers" else col, language)))
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    for ax in list(axes.flat)[len(columns):]:
        ax.axis("off")
    fig.suptitle(t("fig_kpi_trends", language, period=period))
    fig.tight_layout()
    return fig


def pareto_figure(curve: pd.DataFrame, top20_share: float, language: str = "en"):
    """The Pareto curve of revenue with the top 20% marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(curve["customer_share"] * 100, curve["revenue_share"] * 100)
    ax.axvline(20, color="grey", linestyle="--")
    ax.axhline(top20_share * 100, color="grey", linestyle="--")
    ax.set_xlabel(t("fig_pareto_x", language))
    ax.set_ylabel(t("fig_pareto_y", language))
    ax.set_title(t("fig_pareto_title", language, share=f"{top20_share:.1%}"))
    return fig


def load_shapes_figure(profiles: pd.DataFrame, shown: list[str], sizes: pd.Series, all_regions: bool = False,
                       language: str = "en"):
    """The mean normalized profile of each shown load shape with its 10-90% band."""
    import matplotlib.pyplot as plt

    ncols = min(3, len(shown))
    nrows = -(-len(shown) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.2 * nrows), squeeze=False, sharey=True)
    for ax, shape in zip(axes.flat, shown, strict=False):
        prof = profiles[profiles["load_shape"] == shape].sort_values("x")
        ax.fill_between(prof["x"], prof["p10"], prof["p90"], alpha=0.25, label=t("fig_band", language))
        ax.plot(prof["x"], prof["mean"], label=t("fig_mean", language))
        ax.set_title(f"{word(shape, language)} (n={int(sizes[shape]):,})")
        ax.set_xticks(range(0, 24, 3) if prof["axis"].iloc[0] == "hour" else range(1, 13))
        axis = prof["axis"].iloc[0] if "axis" in prof else "hour"
        ax.set_xlabel(t("fig_hour", language) if axis == "hour" else t("fig_month", language))
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    axes.flat[0].legend(loc="upper left")
    axes_shown = set(profiles.loc[profiles["load_shape"].isin(shown), "axis"])
    title = t("fig_shapes_hour" if axes_shown == {"hour"} else "fig_shapes_month" if axes_shown == {"month"}
              else "fig_shapes_mixed", language)
    fig.suptitle(title + (t("fig_all_regions_suffix", language) if all_regions else ""))
    fig.tight_layout()
    return fig


def profile_figure(profiles: pd.DataFrame):
    """Every load shape's mean profile with its 10-90% band (the segment stage logs it to MLflow)."""
    import matplotlib.pyplot as plt

    order = profiles.sort_values(["family", "load_shape"], ascending=[False, True]) if "family" in profiles else profiles
    shapes = list(dict.fromkeys(order["load_shape"]))  # intraday shapes first, then daily ones
    ncols = min(max(len(shapes), 1), 4)
    nrows = -(-max(len(shapes), 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.0 * nrows), sharey=True, squeeze=False)
    for ax, shape in zip(axes.flat, shapes, strict=False):
        p = profiles[profiles["load_shape"] == shape]
        ax.fill_between(p["x"], p["p10"], p["p90"], alpha=0.3)
        ax.plot(p["x"], p["mean"])
        peak = p["peak_ratio"].iloc[0] if "peak_ratio" in p else float("nan")
        detail = f"\npeak {peak:.1f}x, base {p['base_ratio'].iloc[0]:.2f}x the mean interval" if peak == peak else ""
        ax.set_title(f"{shape} (n={int(p['n_customers'].iloc[0])}){detail}", fontsize=9)
        ax.set_xlabel(p["axis"].iloc[0])
        ax.set_xticks(range(0, 24, 3) if p["axis"].iloc[0] == "hour" else range(1, 13))
    for ax in list(axes.flat)[len(shapes):]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("load / mean")
    fig.tight_layout()
    return fig


def show_figure(fig: Any, alt: str | None = None, dpi: int = 96) -> None:
    """Display a matplotlib figure as an embedded PNG (no timestamp metadata) and close it.

    `alt` (default: the figure's or first axes' title) becomes the image's alternative text.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    if alt is None:
        suptitle = getattr(fig, "_suptitle", None)
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        alt = suptitle.get_text() if suptitle is not None else (titles[0] if titles else "figure")
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png", metadata={"alt": alt}))


# --------------------------------------------------------------------------- the regional section

def _grid(n: int, ncols: int = 3, width: float = 4.6, height: float = 2.8, **kw):
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, n))
    nrows = -(-max(n, 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, list(axes.flat)[:n]


def regional_load_figure(monthly: pd.DataFrame, regions: list[str], language: str = "en"):
    """Small multiples: monthly energy (MWh) and peak (kW) of each region, one panel each, months
    with hours missing marked."""
    fig, axes = _grid(len(regions))
    for ax, region in zip(axes, regions, strict=True):
        m = monthly[monthly["region"].astype(str) == region].sort_values("month")
        x = pd.PeriodIndex(m["month"].astype(str), freq="M").to_timestamp()
        ax.plot(x, m["energy_kwh"] / 1e3, marker="o", markersize=3, label=t("fig_energy_mwh", language))
        if "complete" in m and (~m["complete"].astype(bool)).any():
            gaps = ~m["complete"].astype(bool).to_numpy()
            ax.plot(x[gaps], (m["energy_kwh"] / 1e3).to_numpy()[gaps], "x", color="red",
                    label=t("fig_hours_missing", language))
        ax.set_title(word(region, language), fontsize=10)
        ax.set_ylabel(t("fig_mwh_month", language), fontsize=8)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        peak = ax.twinx()
        peak.plot(x, m["peak_kw"], color="tab:orange", linewidth=1, alpha=0.7, label=word("peak (kW)", language))
        peak.tick_params(labelsize=7, colors="tab:orange")
        peak.grid(False)
    if axes:
        handles = [*axes[0].get_legend_handles_labels()[0], *fig.axes[-1].get_legend_handles_labels()[0]]
        fig.legend(handles, [h.get_label() for h in handles], loc="lower center", ncol=3, fontsize=8,
                   bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(t("fig_regional_title", language))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def growth_load_factor_figure(summary: pd.DataFrame, monthly: pd.DataFrame, regions: list[str], language: str = "en"):
    """Per region: the weather-normalized year-on-year growth of each month (lines), and the
    load factor of the last 12 months (bars)."""
    import matplotlib.pyplot as plt

    fig, (growth, lf) = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [2, 1]})
    for region in regions:
        m = monthly[monthly["region"].astype(str) == region].sort_values("month")
        g = m["growth_yoy_weather_normalized"]
        if g.notna().any():
            x = pd.PeriodIndex(m["month"].astype(str), freq="M").to_timestamp()
            growth.plot(x, g * 100, marker="o", markersize=3, label=word(region, language),
                        linewidth=2.5 if region == "total" else 1.2, color="black" if region == "total" else None)
    growth.axhline(0, color="grey", linewidth=0.8)
    growth.set_ylabel(t("fig_growth_y", language))
    growth.set_title(t("fig_growth_title", language))
    growth.tick_params(axis="x", labelrotation=45, labelsize=7)
    if growth.get_legend_handles_labels()[0]:
        growth.legend(fontsize=7, ncol=2)
    else:
        growth.text(0.5, 0.5, t("fig_growth_none", language), ha="center", transform=growth.transAxes)
    s = summary.assign(region=summary["region"].astype(str)).set_index("region").reindex(regions)
    lf.barh(range(len(regions)), s["load_factor_12m"].fillna(0), color=["black" if r == "total" else "tab:blue"
                                                                        for r in regions])
    lf.set_yticks(range(len(regions)), [word(r, language) for r in regions], fontsize=8)
    lf.invert_yaxis()
    lf.set_xlim(0, 1)
    lf.set_xlabel(t("fig_lf_x", language))
    lf.set_title(t("fig_lf_title", language))
    fig.tight_layout()
    return fig


def line_loss_theft_figure(summary: pd.DataFrame, regions: list[str], min_group_size: int, language: str = "en"):
    """Line loss of the last 12 months against the region's mean theft score (a scatter, one
    point per region); regions with fewer theft-scored accounts than min_group_size are left out
    (no small group's score is shown), and when no region is left, or there are no theft scores,
    line loss alone is drawn (bars)."""
    import matplotlib.pyplot as plt

    s = summary.assign(region=summary["region"].astype(str)).set_index("region").reindex(
        [r for r in regions if r != "total"]).dropna(subset=["line_loss_12m"])
    scored = s[s["theft_scored_accounts"].fillna(0) >= min_group_size].dropna(subset=["theft_mean_score"])
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    if len(scored):
        ax.scatter(scored["theft_mean_score"] * 100, scored["line_loss_12m"] * 100, s=40)
        for region, row in scored.iterrows():
            ax.annotate(region, (row["theft_mean_score"] * 100, row["line_loss_12m"] * 100), fontsize=8,
                        xytext=(4, 3), textcoords="offset points")
        ax.set_xlabel(t("fig_loss_x", language))
        ax.set_ylabel(t("fig_loss_y", language))
        ax.set_title(t("fig_loss_title", language))
    else:
        ax.barh(range(len(s)), s["line_loss_12m"] * 100)
        ax.set_yticks(range(len(s)), list(s.index), fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(t("fig_loss_y", language))
        none = s["theft_scored_accounts"].isna().all() if "theft_scored_accounts" in s else True
        ax.set_title(t("fig_loss_bars_title", language) if none else
                     t("fig_loss_bars_small", language, n=min_group_size))
    total = summary.loc[summary["region"].astype(str) == "total", "line_loss_12m"]
    if len(total) and pd.notna(total.iloc[0]):
        (ax.axhline if len(scored) else ax.axvline)(total.iloc[0] * 100, color="grey", linestyle="--",
                                                         linewidth=0.8, label=t("fig_system", language))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _band(ax, frame: pd.DataFrame, color: str, label: str | None, language: str = "en") -> None:
    ax.fill_between(frame["ts"], frame["lo_80"], frame["hi_80"], color=color, alpha=0.2, linewidth=0,
                    label=None if label is None else t("fig_interval", language, label=label))
    ax.plot(frame["ts"], frame["forecast"], color=color, linewidth=1.2, label=label)


def forecast_week_figure(hourly: pd.DataFrame, regions: list[str], cutoff: pd.Timestamp, language: str = "en"):
    """Last week's forecast (from the origin a week before the cut-off) against the load that
    happened, and the week-ahead forecast, each with its 80% interval: `total` large on top,
    the regions below as small multiples."""
    import matplotlib.pyplot as plt

    origins = sorted(pd.to_datetime(hourly["origin"]).unique())
    past = [o for o in origins if hourly.loc[pd.to_datetime(hourly["origin"]) == o, "actual"].notna().any()]
    checked = past[-1] if past else None
    ahead = [o for o in origins if o != checked]
    ahead = ahead[-1] if ahead else None
    shown = [r for r in regions if r in set(hourly["region"].astype(str))]
    on_top = "total" if "total" in shown else (shown[0] if shown else None)
    small = [r for r in shown if r != on_top]
    ncols = min(3, max(len(small), 1))
    nrows = 1 + -(-len(small) // ncols) if small else 1
    fig = plt.figure(figsize=(4.6 * ncols if small else 12, 3.6 + 2.6 * (nrows - 1)))
    grid = fig.add_gridspec(nrows, ncols, height_ratios=[1.4] + [1] * (nrows - 1))
    panels = [(fig.add_subplot(grid[0, :]), on_top)] + [
        (fig.add_subplot(grid[1 + i // ncols, i % ncols]), r) for i, r in enumerate(small)]
    for n, (ax, region) in enumerate(panels):
        h = hourly[hourly["region"].astype(str) == region].assign(
            ts=lambda f: pd.to_datetime(f["ts"]), origin=lambda f: pd.to_datetime(f["origin"]))
        if checked is not None:
            week = h[h["origin"] == checked].sort_values("ts")
            _band(ax, week, "tab:blue", t("fig_week_last", language) if n == 0 else None, language)
            ax.plot(week["ts"], week["actual"], color="black", linewidth=1,
                    label=t("fig_week_actual", language) if n == 0 else None)
        if ahead is not None:
            _band(ax, h[h["origin"] == ahead].sort_values("ts"), "tab:orange",
                  t("fig_week_ahead", language) if n == 0 else None, language)
        ax.axvline(cutoff, color="grey", linestyle="--", linewidth=0.8)
        ax.set_title(word(region, language), fontsize=11 if n == 0 else 9)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.tick_params(axis="y", labelsize=7)
        if n == 0:
            ax.set_ylabel("kW")
            ax.legend(fontsize=8, ncol=3, loc="upper left")
    fig.suptitle(t("fig_week_title", language))
    fig.tight_layout()
    return fig


def outlook_figure(monthly_forecast: pd.DataFrame, monthly: pd.DataFrame, regions: list[str], language: str = "en"):
    """Small multiples: each region's monthly energy of the last 12 months and the forecast of
    the next 12 with its 80% interval (MWh)."""
    shown = [r for r in regions if r in set(monthly_forecast["region"].astype(str))]
    fig, axes = _grid(len(shown))
    for ax, region in zip(axes, shown, strict=True):
        m = monthly[monthly["region"].astype(str) == region].sort_values("month").tail(12)
        f = monthly_forecast[monthly_forecast["region"].astype(str) == region].sort_values("month")
        xm = pd.PeriodIndex(m["month"].astype(str), freq="M").to_timestamp()
        xf = pd.PeriodIndex(f["month"].astype(str), freq="M").to_timestamp()
        ax.plot(xm, m["energy_kwh"] / 1e3, color="black", marker="o", markersize=3,
                label=t("fig_outlook_last", language))
        ax.fill_between(xf, f["energy_lo_80"] / 1e3, f["energy_hi_80"] / 1e3, color="tab:orange", alpha=0.25,
                        linewidth=0, label=t("fig_outlook_band", language))
        ax.plot(xf, f["energy"] / 1e3, color="tab:orange", marker="o", markersize=3, label=t("fig_outlook_line", language))
        ax.set_title(word(region, language), fontsize=10)
        ax.set_ylabel(t("fig_mwh_month", language), fontsize=8)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    if axes:
        axes[0].legend(fontsize=7)
    fig.suptitle(t("fig_outlook_title", language))
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- tiers, risks, plan

def tier_heatmap_figure(segments: pd.DataFrame, tiers: list[str], grades: list[str], min_group_size: int,
                        language: str = "en"):
    """Value tiers down, credit grades across: each cell coloured by its share of revenue and
    labelled with its customers and share; a cell under min_group_size customers is grey, "<n"."""
    import matplotlib.pyplot as plt
    import numpy as np

    revenue = pd.to_numeric(segments.get("revenue_12m", pd.Series(0.0, index=segments.index)), errors="coerce").fillna(0)
    total = float(revenue.sum())
    share = np.full((len(tiers), len(grades)), np.nan)
    labels = [["" for _ in grades] for _ in tiers]
    for i, tier in enumerate(tiers):
        for j, grade in enumerate(grades):
            mask = (segments["value_tier"] == tier) & (segments["credit_grade"] == grade)
            n = int(mask.sum())
            if n < min_group_size:
                labels[i][j] = f"<{min_group_size}"
                continue
            share[i, j] = revenue[mask].sum() / total if total > 0 else 0.0
            labels[i][j] = t("fig_tier_cell", language, n=f"{n:,}", share=f"{share[i, j]:.1%}")
    fig, ax = plt.subplots(figsize=(9, 3.8))
    ax.imshow(np.ma.masked_invalid(share), cmap="Blues", aspect="auto", vmin=0,
              vmax=max(np.nanmax(share), 1e-9) if np.isfinite(share).any() else 1)
    for i in range(len(tiers)):
        for j in range(len(grades)):
            dark = np.isfinite(share[i, j]) and share[i, j] > 0.6 * np.nanmax(share)
            ax.text(j, i, labels[i][j], ha="center", va="center", fontsize=9, color="white" if dark else "black")
    ax.set_xticks(range(len(grades)), [t("fig_credit", language, grade=g) for g in grades])
    ax.set_yticks(range(len(tiers)), [f"{tier} value" if language == "en" else word(tier, language) for tier in tiers])
    ax.grid(False)
    ax.set_title(t("fig_tier_title", language))
    return fig


def score_distributions_figure(scores: pd.DataFrame, capacity: dict[str, int], tasks: list[str],
                               language: str = "en"):
    """One panel per task: how many customers have each risk score (log scale), and the score at
    which the team's list is cut (its capacity)."""
    import numpy as np

    shown = [t for t in tasks if (scores["task"] == t).any()]
    fig, axes = _grid(len(shown), ncols=3, width=4.6, height=3.0)
    for ax, task in zip(axes, shown, strict=True):
        s = np.sort(pd.to_numeric(scores.loc[scores["task"] == task, "score"], errors="coerce").dropna().to_numpy())[::-1]
        ax.hist(s * 100, bins=40, color="#4c72b0")
        ax.set_yscale("log")
        k = capacity.get(task)
        if k and len(s) >= k:
            ax.axvline(s[k - 1] * 100, color="#c44e52", linestyle="--",
                       label=t("fig_scores_cut", language, k=k, cut=f"{s[k - 1]:.1%}"))
            ax.legend(fontsize=8)
        ax.set_title(t("fig_scores_panel", language, task=word(task, language), n=f"{len(s):,}"))
        ax.set_xlabel(t("fig_scores_x", language))
    fig.suptitle(t("fig_scores_title", language))
    fig.tight_layout()
    return fig


def plan_capacity_figure(plan: pd.DataFrame, actions: pd.DataFrame, language: str = "en"):
    """Per action: customers on the list (treated and holdout) against the team's capacity."""
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(actions["action"])
    treated = plan[~plan["holdout"].astype(bool)]["action"].value_counts().reindex(names).fillna(0).to_numpy()
    held = plan[plan["holdout"].astype(bool)]["action"].value_counts().reindex(names).fillna(0).to_numpy()
    capacity = pd.to_numeric(actions["capacity"], errors="coerce").fillna(0).to_numpy()
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.2))
    ax.barh(y, treated, color="#4c72b0", label=t("fig_plan_treat", language))
    ax.barh(y, held, left=treated, color="#dd8452", label=t("fig_plan_holdout", language))
    ax.scatter(capacity, y, marker="|", s=300, color="black", label=t("fig_plan_capacity", language))
    ax.set_yticks(y, [word(n, language) for n in names])
    ax.invert_yaxis()
    ax.set_xlabel(t("fig_customers", language))
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(t("fig_plan_title", language))
    fig.tight_layout()
    return fig


def tou_saving_figure(segments: pd.DataFrame, min_group_size: int, currency: str, language: str = "en"):
    """Per customer class: the ToU offer's candidates (customers who would save) and their
    expected yearly saving; a class with fewer candidates than min_group_size is left out."""
    import matplotlib.pyplot as plt
    import numpy as np

    saving = pd.to_numeric(segments["tou_expected_saving"], errors="coerce")
    cand = segments.assign(saving=saving)[saving > 0]
    per_class = cand.groupby(cand["customer_class"].astype(str))["saving"].agg(["size", "sum"])
    per_class = per_class[per_class["size"] >= min_group_size].sort_values("sum")
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(per_class), 1) + 1.4))
    y = np.arange(len(per_class))
    ax.barh(y, per_class["sum"].to_numpy(), color="#55a868")
    for yi, (n, total) in enumerate(zip(per_class["size"], per_class["sum"], strict=True)):
        ax.annotate(t("fig_tou_bar", language, n=f"{int(n):,}", saving=f"{total:,.0f}"), (total, yi),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(y, [word(c, language) for c in per_class.index])
    ax.set_xlabel(t("fig_tou_x", language, currency=currency))
    ax.set_title(t("fig_tou_title", language))
    ax.margins(x=0.25)
    fig.tight_layout()
    return fig


def migration_heatmap_figure(table: pd.DataFrame, min_group_size: int, language: str = "en"):
    """The migration table (`report.tables.migration`: previous cells down, this period's across,
    counts under min_group_size already hidden as "<n") as a heatmap of the share of each row."""
    import matplotlib.pyplot as plt
    import numpy as np

    counts = table.apply(pd.to_numeric, errors="coerce")
    share = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    fig, ax = plt.subplots(figsize=(1.0 * len(table.columns) + 2.5, 0.45 * len(table.index) + 1.6))
    ax.imshow(np.ma.masked_invalid(share.to_numpy(dtype=float)), cmap="Blues", aspect="auto", vmin=0, vmax=1)
    for i, row in enumerate(table.index):
        for j, col in enumerate(table.columns):
            value = table.loc[row, col]
            text = str(value) if isinstance(value, str) else (f"{int(value):,}" if value else "")
            dark = np.isfinite(share.iloc[i, j]) and share.iloc[i, j] > 0.6
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    ax.set_xticks(range(len(table.columns)), [word(c, language) for c in table.columns], rotation=45, ha="right",
                  fontsize=8)
    ax.set_yticks(range(len(table.index)), [word(r, language) for r in table.index], fontsize=8)
    ax.set_xlabel(t("fig_this_period", language))
    ax.set_ylabel(t("fig_previous_period", language))
    ax.grid(False)
    ax.set_title(t("fig_migration_title", language))
    fig.tight_layout()
    return fig


def model_health_figure(comparison: pd.DataFrame, drift: pd.DataFrame | None, tasks: list[str],
                        language: str = "en"):
    """Small multiples per task: each family's validation ROC-AUC (the champion darker) and, in
    the title, the score drift (PSI) since last period."""
    shown = [t for t in tasks if (comparison["task"] == t).any()]
    fig, axes = _grid(len(shown), ncols=3, width=4.6, height=2.9)
    psi = drift.set_index("task")["PSI"] if drift is not None and "PSI" in drift else pd.Series(dtype=float)
    for ax, task in zip(axes, shown, strict=True):
        rows = comparison[comparison["task"] == task].sort_values("family")
        champion = rows["champion"].astype(str).eq("yes").to_numpy()
        ax.barh([word(f, language) for f in rows["family"]], rows["roc_auc"],
                color=["#1f4e79" if c else "#9dbbd6" for c in champion])
        low = max(0.5, float(rows["roc_auc"].min()) - 0.05)
        ax.set_xlim(low, 1.0)
        for y, auc in enumerate(rows["roc_auc"]):
            ax.text(auc, y, f" {auc:.3f}", va="center", fontsize=8)
        drift_text = (t("fig_health_drift", language, psi=f"{psi[task]:.2f}")
                      if task in psi.index and pd.notna(psi[task]) else "")
        ax.set_title(t("fig_health_panel", language, task=word(task, language)) + drift_text, fontsize=9)
    fig.suptitle(t("fig_health_title", language))
    fig.tight_layout()
    return fig


def region_share_figure(kpis: pd.DataFrame, region: str, period: str, columns: list[str], language: str = "en"):
    """A region against the company: its share of each count or amount KPI of the period (bars),
    and its on-time rate next to the company's (text)."""
    import matplotlib.pyplot as plt

    from powerlens.snapshots import ALL_REGIONS

    at = kpis[kpis["period"].astype(str) == period].assign(region=lambda f: f["region"].astype(str))
    mine, whole = at[at["region"] == str(region)], at[at["region"] == ALL_REGIONS]
    amounts = [c for c in columns if not c.endswith("_rate")]
    shares = [float(mine[c].iloc[0] / whole[c].iloc[0]) * 100 if len(mine) and len(whole) and whole[c].iloc[0]
              else 0.0 for c in amounts]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(amounts) + 1.4))
    ax.barh(range(len(amounts)), shares, color="#4c72b0")
    ax.set_yticks(range(len(amounts)), [word("active accounts" if c == "customers" else c, language) for c in amounts])
    ax.invert_yaxis()
    for y, v in enumerate(shares):
        ax.text(v, y, f" {v:.1f}%", va="center", fontsize=8)
    ax.set_xlim(0, max([*shares, 1.0]) * 1.2)
    ax.set_xlabel(t("fig_region_share_x", language))
    ax.set_title(t("fig_region_share", language, region=region, period=period))
    fig.tight_layout()
    return fig
