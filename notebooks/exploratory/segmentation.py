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
# # Segmentation
#
# The segments the pipeline makes, computed here the same way (`powerlens.segmentation.segment`
# with the `segment` section of params.yaml, load shapes from the clean readings of the look-back)
# so the choices behind them can be looked at: how concentrated revenue is, how the value weights
# come out, how many load shapes each shape family supports and how stable they are, what they look
# like, and how value and credit combine. Run it from the project root after the validate stage.

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
import pandas as pd  # noqa: E402
from IPython.display import display  # noqa: E402

from powerlens import features as F  # noqa: E402
from powerlens.config import load_params  # noqa: E402
from powerlens.report.figures import show_figure  # noqa: E402
from powerlens.segmentation import pareto, profile_table, read_look_back, segment  # noqa: E402
from powerlens.report.figures import profile_figure  # noqa: E402

warnings.filterwarnings("ignore")
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

CLEAN = Path(clean_dir) if clean_dir else Path(data_dir) / "clean"
params = load_params(params_path)
fp, sp = params["features"], params["segment"]
clean = F.load_clean(CLEAN)
_, scoring = F.cutoffs_from_params(clean, fp)
feats = F.build(clean, scoring, **F.build_options(fp))
look_back = read_look_back(CLEAN, pd.Index(feats["customer_id"]), scoring, sp["clustering"]["history_days"])
seg, clusters, metrics = segment(feats, look_back, sp)
print(f"{metrics['customers']} accounts at {scoring.date()}; top 20% carry "
      f"{metrics['pareto_top20_share']:.0%} of {metrics['pareto_basis']}; "
      f"{metrics['big_customers']} big customers; {metrics['latent_big_customers']} latent big")
display(pd.DataFrame({k: v for k, v in metrics["value_weights"].items() if isinstance(v, dict)}).rename_axis(
    f"value weights ({metrics['value_weights']['method']})"))

# %% [markdown]
# ## Pareto curve

# %%
basis = metrics["pareto_basis"]
curve, top20 = pareto(feats.set_index("customer_id")[basis])
fig, ax = plt.subplots(figsize=(5, 4))
ax.plot(curve["customer_share"], curve["revenue_share"])
ax.axvline(0.2, ls=":", c="grey")
ax.set_xlabel("share of customers (largest first)")
ax.set_ylabel(f"share of {basis}")
ax.set_title(f"Pareto: top 20% = {top20:.0%}")
show_figure(fig)

# %% [markdown]
# ## How many load shapes?
#
# Per shape family (interval-metered customers by their 24-hour shape, the others by their weekly
# and seasonal shape), every algorithm x k with the validity indices. Candidates with a tiny
# cluster or with clusters the names cannot tell apart are not admissible; the others are ranked
# by silhouette, Davies-Bouldin, CDI and MIA, and the first whose bootstrap stability (customers
# and days resampled) reaches the minimum is chosen.

# %%
cand = clusters.candidates
display(cand.round(3))
families = list(dict.fromkeys(cand["family"]))
fig, axes = plt.subplots(len(families), 4, figsize=(13, 2.8 * len(families)), squeeze=False)
for row, family in zip(axes, families, strict=True):
    c = cand[cand["family"] == family]
    chosen = c[c["chosen"]].iloc[0]
    for ax, col in zip(row, ["silhouette", "davies_bouldin", "cdi", "stability_ari"], strict=True):
        for algorithm, g in c.groupby("algorithm"):
            ax.plot(g["k"], g[col], "o-", label=algorithm)
        ax.axvline(chosen["k"], ls=":", c="grey")
        ax.set_title(f"{family}: {col}", fontsize=9)
        ax.set_xlabel("k")
    row[0].legend(fontsize=7)
fig.suptitle("Cluster validity by k (dotted: chosen k per family)")
fig.tight_layout()
show_figure(fig)
display(pd.DataFrame(metrics["load_shape_families"]).T)

# %% [markdown]
# ## Load shapes: mean normalized profile with the 10-90% band

# %%
profiles = profile_table(look_back, seg)
show_figure(profile_figure(profiles), alt="load-shape profiles")
display(seg.groupby(["load_shape_family", "load_shape"]).agg(
    customers=("customer_id", "size"), revenue_12m=("revenue_12m", "sum"), kwh_365d=("kwh_365d", "sum")).round(0))

# %% [markdown]
# ## Value tier x credit grade

# %%
display(pd.crosstab(seg["value_tier"], seg["credit_grade"], margins=True))
display(pd.crosstab(seg["customer_class"], seg["value_tier"]))

# %% [markdown]
# ## Latent big customers: who, and why

# %%
latent = seg[seg["latent_big_customer"]].sort_values("latent_big_rank")
display(latent[["customer_id", "customer_class", "capacity_kva", "latent_big_rank",
                "latent_big_reason"]].head(15))
