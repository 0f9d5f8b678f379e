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
# # Regional load and sales
#
# How load and sales are spread over the regions, how peaky each region is, how it reacts to the
# weather, how fast it grows once the weather is taken out, where its level stepped (new large
# loads), and how much of its energy is not billed next to its theft scores. Everything is what
# the `regional` stage wrote (`data/regional/`: monthly, steps, sales_by_class, regions), found
# through `powerlens.workspace`; this notebook only looks. Runs from any folder inside the
# project, or give `project_dir`.

# %% tags=["parameters"]
project_dir = None  # default: the project around the current folder

# %%
import json  # noqa: E402
import warnings  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import display  # noqa: E402

from powerlens import workspace  # noqa: E402
from powerlens.errors import MissingInput  # noqa: E402
from powerlens.report.figures import show_figure  # noqa: E402

warnings.filterwarnings("ignore")
pd.set_option("display.max_colwidth", None)
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

ws = workspace.open(project_dir)
stage_dir = ws.data.regional  # the regional stage's outputs


def stage_table(name: str) -> pd.DataFrame:
    path = stage_dir / f"{name}.parquet"
    if not path.exists():
        raise MissingInput(f"no {path}: run the regional stage first (make run, or uv run dvc repro regional)")
    return pd.read_parquet(path)


monthly = stage_table("monthly")
steps = stage_table("steps")
sales = stage_table("sales_by_class")
regions = stage_table("regions")
stage_metrics = json.loads((stage_dir / "metrics.json").read_text(encoding="utf-8"))
names = [r for r in regions["region"] if r != "total"]
print(f"Project {ws.paths.root}: {len(names)} regions x {stage_metrics['months']} months "
      f"({stage_metrics['first_month']} .. {stage_metrics['last_month']}); {stage_metrics['steps']} step(s) found; "
      f"{stage_metrics['outage_hours']} outage hours; {stage_metrics['region_months_incomplete']} region-months "
      "with missing hours")

# %% [markdown]
# ## The regions over the last 12 months

# %%
shown = regions.assign(**{
    "energy GWh 12m": regions["energy_kwh_12m"] / 1e6,
    "peak MW 12m": regions["peak_kw_12m"] / 1e3,
    "load factor": regions["load_factor_12m"],
    "kWh per HDD": regions["kwh_per_hdd"],
    "kWh per CDD": regions["kwh_per_cdd"],
    "growth (weather-normalized)": regions["growth_yoy_weather_normalized"],
    "line loss 12m": regions["line_loss_12m"],
})
print("Table: the regions over their last 12 months (sensitivity and growth of the latest month)")
display(shown[["region", "energy GWh 12m", "peak MW 12m", "load factor", "kWh per HDD", "kWh per CDD",
               "growth (weather-normalized)", "steps", "line loss 12m", "theft_mean_score",
               "theft_top_accounts"]].style.format(precision=3, na_rep="-").hide(axis="index"))

# %% [markdown]
# ## Monthly energy per region, with the steps found

# %%
cols = min(4, len(names))
rows_n = -(-len(names) // cols)
fig, axes = plt.subplots(rows_n, cols, figsize=(3.2 * cols, 2.4 * rows_n), sharex=True, squeeze=False)
for ax, region in zip(axes.flat, names, strict=False):
    m = monthly[monthly["region"] == region]
    ax.plot(pd.PeriodIndex(m["month"], freq="M").to_timestamp(), m["energy_kwh"] / 1e6, lw=1.2)
    for s in steps[steps["region"] == region].itertuples():
        ax.axvline(s.date, color="tab:red", ls="--", lw=1)
    ax.set_title(region, fontsize=9)
    ax.tick_params(labelsize=7)
for ax in list(axes.flat)[len(names):]:
    ax.set_visible(False)
fig.suptitle("Monthly energy per region (GWh), steps found as dashed lines")
fig.autofmt_xdate()
show_figure(fig, alt="Monthly energy per region: small multiples of GWh per month, steps found as dashed lines")
if len(steps):
    print("Table: the new-load events (steps) found")
    display(steps.style.format(precision=2).hide(axis="index"))
else:
    print("No step found in any region.")

# %% [markdown]
# ## Growth and load factor

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
for region in [*names, "total"]:
    m = monthly[monthly["region"] == region]
    when = pd.PeriodIndex(m["month"], freq="M").to_timestamp()
    style = {"color": "black", "lw": 2} if region == "total" else {"lw": 1}
    ax1.plot(when, m["growth_yoy_weather_normalized"] * 100, label=region, **style)
    ax2.plot(when, m["load_factor"], label=region, **style)
ax1.set_title("Weather-normalized growth on a year earlier (%)")
ax2.set_title("Load factor (mean / peak)")
ax2.legend(fontsize=7, ncol=2)
fig.autofmt_xdate()
show_figure(fig, alt="Growth and load factor per region: weather-normalized year-on-year growth and monthly "
                     "load factor, the total in black")

# %% [markdown]
# ## Line loss next to the theft scores
#
# Line loss is (region load - billed kWh) / region load: technical losses plus what meters do not
# record. Only regions with customers have it (a load export alone has none).

# %%
loss = regions[(regions["region"] != "total") & regions["line_loss_12m"].notna()]
if len(loss):
    fig, ax = plt.subplots(figsize=(6, 4))
    scored = loss["theft_mean_score"].notna().any()
    x = loss["theft_mean_score"] if scored else loss["energy_kwh_12m"] / 1e6
    ax.scatter(x, loss["line_loss_12m"] * 100)
    for r in loss.itertuples():
        ax.annotate(r.region, (x[r.Index], r.line_loss_12m * 100), fontsize=8)
    what = "mean theft score" if scored else "energy GWh (no theft scores yet)"
    ax.set_xlabel(what)
    ax.set_ylabel("line loss over 12 months (%)")
    ax.set_title(f"Line loss vs {what.split(' (')[0]} per region")
    show_figure(fig, alt=f"Line loss vs {what} per region: one point per region")
    print(f"Highest line loss: {loss.loc[loss['line_loss_12m'].idxmax(), 'region']} "
          f"({loss['line_loss_12m'].max():.1%}); lowest: {loss.loc[loss['line_loss_12m'].idxmin(), 'region']} "
          f"({loss['line_loss_12m'].min():.1%}).")
else:
    print("No line loss: the data has no customers to bill.")

# %% [markdown]
# ## Sales per customer class and region

# %%
if len(sales):
    last = sorted(sales["month"].unique())[-12:]
    by_class = sales[sales["month"].isin(last)].pivot_table(index="customer_class", columns="region", values="kwh",
                                                            aggfunc="sum") / 1e6
    print(f"Table: GWh over the last 12 months ({last[0]} .. {last[-1]}) by customer class and region")
    display(by_class.style.format(precision=2, na_rep="-"))
    fig, ax = plt.subplots(figsize=(8, 3.8))
    by_class.T.plot.bar(stacked=True, ax=ax)
    ax.set_ylabel("GWh, last 12 months")
    ax.set_title("Sales by customer class and region")
    show_figure(fig, alt="Sales by customer class and region: stacked GWh of the last 12 months")
else:
    print("No sales by class: the data has no customers.")
