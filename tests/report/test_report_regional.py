"""The report's regional section: its tables say what the snapshot holds with the report's
precision and suppress small groups, its figures draw every region, and the rendered page shows
the section (escaped, with alternative texts) when the data has region load, and no section and
no error when it has none (a PowerCo-like utility)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from report.test_report_html import SCRIPT, Page, live_markup, small_counts
from snapshots.test_regional_snapshot import (
    END,
    STEP,
    add_region_load,
    load_level,
    regional_data,
    write_forecasts,
)
from support import build_data, render_period

matplotlib.use("Agg")

SECTION = "10. Regions: load, growth, line loss and forecasts"


@pytest.fixture(scope="module")
def regional(tmp_path_factory):
    """The snapshot's regional tables at the data's end, with theft scores on every customer."""
    from powerlens.snapshots.regional import regional_tables

    data, _ = regional_data(tmp_path_factory.mktemp("report_regional"))
    customers = pd.read_parquet(data / "clean" / "customers.parquet")
    scores = pd.DataFrame({"customer_id": customers["customer_id"], "task": "theft",
                           "score": np.linspace(0.9, 0.01, len(customers)), "rank": np.arange(1, len(customers) + 1)})
    tables, _ = regional_tables(data, END, customers, scores, top_n=5)
    return tables


def test_the_region_table_formats_and_suppresses(regional):
    from powerlens.report import tables

    summary = regional["regional_summary"]
    regions = tables.regions_in(summary, None)
    assert regions == ["north", "south", "total"]
    assert tables.regions_in(summary, "south") == ["south", "total"]
    shown = tables.region_table(summary, regions, min_group_size=20, top_n=5)
    # north has 26 customers, south 14: south's count and mean theft score are not shown
    assert shown.loc["north", "theft-scored accounts"] == "26" and shown.loc["south", "theft-scored accounts"] == "<20"
    assert shown.loc["south", "mean theft score"] == "–" and shown.loc["north", "mean theft score"].endswith("%")
    assert shown.loc["north", "accounts in theft top 5"] == "<20"  # 5 accounts: a group below 20
    assert shown.loc["total", "theft-scored accounts"] == "40"
    assert shown.loc["south", "new-load steps"] == "1" and shown.loc["north", "new-load steps"] == "0"
    row = summary.set_index("region").loc["south"]
    assert shown.loc["south", "line loss"] == f"{row['line_loss_12m']:.1%}"
    assert shown.loc["south", "energy 12 months (MWh)"] == f"{row['energy_kwh_12m'] / 1e3:,.0f}"
    assert shown.loc["south", "growth (weather-normalized, y/y)"].startswith(("+", "-"))
    assert tables.region_table(summary, regions, min_group_size=10, top_n=5).loc["south", "theft-scored accounts"] == "14"


def test_events_forecast_accuracy_and_outlook_tables(regional):
    from powerlens.report import tables

    steps = tables.steps_table(regional["regional_steps"], ["north", "south", "total"])
    assert [r for r, _ in steps.index] == ["south"] and steps["step"].iloc[0].startswith("+")
    accuracy = tables.forecast_accuracy_table(regional["forecast_accuracy"], ["north", "south", "total"])
    assert list(accuracy.index) == ["north", "south", "total"]
    assert set(accuracy["MAPE"]) == {"5.0%"} and set(accuracy["hours inside the 80% interval"]) == {"100%"}
    outlook = tables.outlook_table(regional["forecast_outlook"], ["north", "south", "total"])
    assert "new-load step" in outlook.loc["south", "drivers"] and STEP[0] == "south"
    assert f"last on {regional['regional_steps']['date'].iloc[0]:%Y-%m-%d}" in outlook.loc["south", "drivers"]
    assert "new-load step" not in outlook.loc["north", "drivers"]
    assert outlook["change"].str.match(r"^\+\d+\.\d%$").all()
    backtest = tables.backtest_table(regional["forecast_backtest"])
    assert list(backtest.index) == ["lightgbm_global", "seasonal_naive"]  # best total MAPE first
    sales = tables.sales_table(regional["regional_sales"], ["north", "south"], min_group_size=10)
    small = sales["customers"] == "<10"
    assert small.any() and (sales.loc[small, "billed 12 months (MWh)"] == "–").all()


def test_the_figures_draw_every_region(regional):
    import matplotlib.pyplot as plt

    from powerlens.report import figures

    regions = ["north", "south", "total"]
    monthly, summary = regional["regional_monthly"], regional["regional_summary"]
    drawn = {
        "load": figures.regional_load_figure(monthly, regions),
        "outlook": figures.outlook_figure(regional["forecast_monthly"], monthly, regions),
        "week": figures.forecast_week_figure(regional["forecast_hourly"], regions, END),
    }
    for name, fig in drawn.items():
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        assert titles == (["total", "north", "south"] if name == "week" else regions), name  # the system on top
    growth = figures.growth_load_factor_figure(summary, monthly, regions)
    assert [t.get_text() for t in growth.axes[1].get_yticklabels()] == regions
    assert len(growth.axes[0].get_lines()) == 1 + len(regions)  # a line per region, the zero line
    scatter = figures.line_loss_theft_figure(summary, regions, min_group_size=10)
    assert scatter.axes[0].get_title() == "Line loss against theft scores per region"
    assert len(scatter.axes[0].texts) == 2  # north and south named beside their points
    bars = figures.line_loss_theft_figure(summary, regions, min_group_size=30)  # south below 30 accounts
    assert "not shown for fewer than 30 accounts" in bars.axes[0].get_title()
    assert len(bars.axes[0].patches) == 2  # line loss of north and south alone
    unscored = summary.assign(theft_scored_accounts=np.nan, theft_mean_score=np.nan)
    assert "(no theft scores)" in figures.line_loss_theft_figure(unscored, regions, 10).axes[0].get_title()
    one = figures.line_loss_theft_figure(summary, ["south", "total"], min_group_size=10)  # a region's report
    assert [t.get_text() for t in one.axes[0].texts] == ["south"]
    # the week: last week's forecast, the load that happened and the week ahead, on the total's panel
    top = drawn["week"].axes[0]
    assert {line.get_label() for line in top.get_lines()} >= {"last week's forecast", "what happened",
                                                              "the week ahead"}
    plt.close("all")


@pytest.mark.slow
def test_the_page_shows_the_section_only_with_region_load(tmp_path):
    """Two renders: a utility whose region name is markup, with region load, forecasts and the
    regional stage's analysis; and the same utility without region load."""
    from powerlens.jobs import regional as stage

    data = build_data(tmp_path / "data")
    customers = pd.read_parquet(data / "clean" / "customers.parquet")
    customers["region"] = customers["region"].replace({"north": SCRIPT})
    customers.to_parquet(data / "clean" / "customers.parquet")
    level = load_level(data)
    load = add_region_load(data, regions=level.to_dict())
    stage.run(data=data / "clean", out=data / "regional", echo=lambda _m: None)
    write_forecasts(data, load)
    html = render_period(data, tmp_path / "reports").read_text(encoding="utf-8")
    page = Page(html)
    text = "".join(page.text)
    assert SECTION in text and "Traceback" not in html
    for heading in ("Growth and load factor", "Line loss and theft", "Sales per customer class", "New-load events",
                    "Last week's forecast against what happened", "The 12-month outlook"):
        assert heading in text
    assert live_markup(page) == [] and SCRIPT not in html
    assert small_counts(page, 10) == []
    region_table = page.table_with("line loss", "load factor")
    assert region_table and len(region_table[0]) == 3  # the two regions and the total
    alts = [attrs.get("alt", "") for tag, attrs in page.tags if tag == "img"]
    regional_alts = [a for a in alts if "per region" in a or "intervals" in a]
    assert len(regional_alts) == 5 and all(SCRIPT in a for a in regional_alts)  # escaped in the source
    accuracy = page.table_with("MAPE", "hours inside the 80% interval")
    assert accuracy and {row["MAPE"] for row in accuracy[0]} == {"5.0%"}
    outlook = page.table_with("next 12 months (MWh)", "drivers")
    assert outlook and any("new-load step" in row["drivers"] for row in outlook[0])

    plain = build_data(tmp_path / "plain")  # no region_load: no section, no error
    html = render_period(plain, tmp_path / "plain_reports").read_text(encoding="utf-8")
    assert "10. Regions" not in html and "Traceback" not in html and "9. Model health" in html
