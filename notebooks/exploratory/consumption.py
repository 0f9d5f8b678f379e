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
# is computed by `powerlens` (the clean tables and the features the models use); this notebook
# only looks. Run it from the project root after the validate stage (`data/clean`).

# %% tags=["parameters"]
data_dir = "data"
clean_dir = None  # default: <data_dir>/clean
params_path = "params.yaml"

# %%
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import display  # noqa: E402

from powerlens import features as F  # noqa: E402
from powerlens.config import load_params  # noqa: E402
from powerlens.report.figures import show_figure  # noqa: E402

warnings.filterwarnings("ignore")
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

CLEAN = Path(clean_dir) if clean_dir else Path(data_dir) / "clean"
fp = load_params(params_path)["features"]
clean = F.load_clean(CLEAN)
_, scoring = F.cutoffs_from_params(clean, fp)
feats = F.build(clean, scoring, **F.build_options(fp))
print(f"{len(clean.customers)} accounts; data ends {clean.data_end.date()}; "
      f"{len(feats)} accounts open at {scoring.date()}")

# %% [markdown]
# ## Accounts by class and region

# %%
display(pd.crosstab(clean.customers["customer_class"], clean.customers["region"], margins=True))

# %% [markdown]
# ## Billed energy and revenue per month, by class

# %%
bills = clean.bills.merge(clean.customers[["customer_id", "customer_class"]].reset_index(drop=True),
                          on="customer_id", how="left")
monthly = bills.pivot_table(index="period", columns="customer_class", values="kwh", aggfunc="sum")
fig, ax = plt.subplots(figsize=(9, 4))
(monthly / 1e6).plot.area(ax=ax, linewidth=0)
ax.set_ylabel("GWh billed")
ax.set_title("Billed energy per month by customer class")
show_figure(fig)

# %% [markdown]
# ## Average weekday hourly profile (interval-metered accounts), by class

# %%
shapes = F.profile_matrix(clean, scoring, fp["history_days"])
hours = [c for c in shapes.columns if c.startswith("wd_h")]
if hours and shapes[hours].notna().any().any():
    wd = shapes[hours].div(shapes[hours].mean(axis=1), axis=0)
    wd["customer_class"] = clean.customers["customer_class"].reindex(wd.index).to_numpy()
    by_class = wd.dropna(subset=hours).groupby("customer_class")[hours].mean()
    fig, ax = plt.subplots(figsize=(9, 4))
    for cls, row in by_class.iterrows():
        ax.plot(range(24), row.to_numpy(), label=cls)
    ax.set_xlabel("hour")
    ax.set_ylabel("load / daily mean")
    ax.set_title("Weekday hourly profile by class")
    ax.legend(fontsize=8)
    show_figure(fig)
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
display(table.round(3))

# %%
fig, axes = plt.subplots(1, len(cols), figsize=(3 * len(cols), 3), squeeze=False)
for ax, col in zip(axes[0], cols, strict=True):
    values = feats[col].replace([np.inf, -np.inf], np.nan).dropna()
    if col == "kwh_365d":
        values = np.log10(values.clip(lower=1))
        col = "log10 kWh (365 d)"
    ax.hist(values, bins=30)
    ax.set_title(col, fontsize=9)
fig.suptitle("Distributions at the scoring cut-off")
fig.tight_layout()
show_figure(fig)

# %% [markdown]
# ## Payment behaviour by class

# %%
display(feats.groupby("customer_class")[["on_time_rate", "days_past_due_mean", "arrears_amount"]]
        .median().round(2))
