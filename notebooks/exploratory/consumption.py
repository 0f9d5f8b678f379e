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
# # Consumption exploration
#
# Who the customers are, how much and when they use electricity, and how they pay. Everything
# is what the pipeline made, read through `powerlens.workspace` (the validate stage's clean
# tables, the features stage's features at the scoring cut-off); this notebook only looks.
# Runs from any folder inside the project, or give `project_dir`.

# %% tags=["parameters"]
project_dir = None  # default: the project around the current folder

# %%
import warnings  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import display  # noqa: E402

from powerlens import features as F  # noqa: E402
from powerlens import workspace  # noqa: E402
from powerlens.config import load_params  # noqa: E402
from powerlens.report.figures import show_figure  # noqa: E402

warnings.filterwarnings("ignore")
pd.set_option("display.max_colwidth", None)
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

ws = workspace.open(project_dir)
fp = load_params(ws.paths.params)["features"]
customers = ws.table("customers")
feats = ws.features()
scoring = pd.Timestamp(ws.manifest["scoring_cutoff"])
print(f"Project {ws.paths.root}: {len(customers)} accounts; {len(feats)} open at the scoring cut-off "
      f"{scoring.date()}")

# %% [markdown]
# ## Accounts by class and region

# %%
print("Table: accounts by customer class (rows) and region (columns)")
display(pd.crosstab(customers["customer_class"], customers["region"], margins=True))

# %% [markdown]
# ## Billed energy and revenue per month, by class

# %%
bills = ws.table("bills").merge(customers[["customer_id", "customer_class"]].reset_index(drop=True),
                                on="customer_id", how="left")
monthly = bills.pivot_table(index="period", columns="customer_class", values="kwh", aggfunc="sum")
fig, ax = plt.subplots(figsize=(9, 4))
(monthly / 1e6).plot.area(ax=ax, linewidth=0)
ax.set_xlabel("billing period")
ax.set_ylabel("GWh billed")
ax.set_title("Billed energy per month by customer class")
show_figure(fig, alt="Billed energy per month by customer class: stacked areas of GWh billed per billing period")
if len(monthly):
    shares = monthly.sum() / monthly.sum().sum()
    print(f"{shares.idxmax()} accounts take {shares.max():.0%} of the energy billed over {len(monthly)} periods.")

# %% [markdown]
# ## Average weekday hourly profile (interval-metered accounts), by class

# %%
clean = F.load_clean(ws.data.clean)  # the readings of the validate stage's clean folder
shapes = F.profile_matrix(clean, scoring, fp["history_days"])
hours = [c for c in shapes.columns if c.startswith("wd_h")]
if hours and shapes[hours].notna().any().any():
    wd = shapes[hours].div(shapes[hours].mean(axis=1), axis=0)
    wd["customer_class"] = customers.set_index("customer_id")["customer_class"].reindex(wd.index).to_numpy()
    by_class = wd.dropna(subset=hours).groupby("customer_class")[hours].mean()
    fig, ax = plt.subplots(figsize=(9, 4))
    for cls, row in by_class.iterrows():
        ax.plot(range(24), row.to_numpy(), label=cls)
    ax.set_xlabel("hour of the day")
    ax.set_ylabel("load / daily mean")
    ax.set_title("Weekday hourly profile by class")
    ax.legend(fontsize=8)
    show_figure(fig, alt="Weekday hourly profile by class: mean load over the daily mean, per hour, one line per "
                         "customer class (interval-metered accounts)")
    peaks = by_class.idxmax(axis=1).str.replace("wd_h", "").astype(int)
    print("Weekday peak hour by class: " + ", ".join(f"{c} {h}:00" for c, h in peaks.items()) + ".")
else:
    print("no interval readings in this data: hourly profiles not available")

# %% [markdown]
# ## Features that describe consumption and payment

# %%
cols = ["kwh_365d", "daily_load_factor", "trend_pct_per_year", "load_factor", "on_time_rate",
        "days_past_due_mean"]
cols = [c for c in cols if c in feats and feats[c].notna().any()]
table = feats[cols].describe(percentiles=[0.1, 0.5, 0.9]).T
table.insert(0, "meaning", [F.describe(c) for c in cols])
print(f"Table: consumption and payment features at {scoring.date()} (count, mean, spread, 10/50/90% quantiles)")
display(table.round(3))

# %%
fig, axes = plt.subplots(1, len(cols), figsize=(3 * len(cols), 3), squeeze=False)
for ax, col in zip(axes[0], cols, strict=True):
    values = feats[col].replace([np.inf, -np.inf], np.nan).dropna()
    if col == "kwh_365d":  # heavy-tailed: a log scale
        values, label = np.log10(values.clip(lower=1)), "log10 kWh (365 days)"
    else:  # clipped to the 1-99% quantiles so a few extreme accounts do not squash the rest
        low, high = values.quantile([0.01, 0.99])
        values, label = values.clip(low, high), f"{col} (1-99% clipped)"
    counts, _, _ = ax.hist(values, bins=30)
    if counts.max() > 0.5 * counts.sum():  # one bar holds most accounts: counts on a log scale
        ax.set_yscale("log")
        label += ", log counts"
    ax.set_xlabel(label, fontsize=8)
    ax.set_title(col, fontsize=9)
axes[0][0].set_ylabel("accounts")
fig.suptitle("Distributions at the scoring cut-off")
fig.tight_layout()
show_figure(fig, alt="Distributions at the scoring cut-off: histograms of " + ", ".join(cols)
            + " (energy on a log scale, the others clipped to their 1-99% quantiles; counts on a log scale "
            "where one bar holds most accounts)")
print(f"Median account: {feats['kwh_365d'].median():,.0f} kWh a year"
      + (f", on-time rate {feats['on_time_rate'].median():.0%}" if "on_time_rate" in feats else "") + ".")

# %% [markdown]
# ## Payment behaviour by class

# %%
print("Table: median payment behaviour per customer class at the scoring cut-off")
display(feats.groupby("customer_class")[["on_time_rate", "days_past_due_mean", "arrears_amount"]]
        .median().round(2))
