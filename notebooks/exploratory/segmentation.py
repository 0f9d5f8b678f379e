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
# with the `segment` section of params.yaml) so the choices behind them can be looked at: how
# concentrated revenue is, how many load shapes the data supports, what they look like, and how
# value and credit combine. Run it from the project root after the validate stage.

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
from powerlens.reporting import show_figure  # noqa: E402
from powerlens.segmentation import pareto, profile_table, segment  # noqa: E402
from powerlens.stages import profile_figure  # noqa: E402

warnings.filterwarnings("ignore")
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

CLEAN = Path(clean_dir) if clean_dir else Path(data_dir) / "clean"
params = load_params(params_path)
fp, sp = params["features"], params["segment"]
clean = F.load_clean(CLEAN)
_, scoring = F.cutoffs_from_params(clean, fp)
feats = F.build(clean, scoring, **F.build_options(fp))
raw = F.profile_matrix(clean, scoring, fp["history_days"])
seg, clusters, metrics = segment(feats, raw, sp)
print(f"{metrics['customers']} accounts at {scoring.date()}; top 20% carry "
      f"{metrics['pareto_top20_share']:.0%} of {metrics['pareto_basis']}; "
      f"{metrics['big_customers']} big customers; {metrics['latent_big_customers']} latent big")

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
# k-means for each k; the pipeline keeps the k with the best silhouette.

# %%
cand = clusters.candidates
display(cand.round(3))
fig, axes = plt.subplots(1, 3, figsize=(11, 3))
for ax, col in zip(axes, ["silhouette", "davies_bouldin", "calinski_harabasz"], strict=True):
    ax.plot(cand["k"], cand[col], "o-")
    ax.axvline(clusters.chosen_k, ls=":", c="grey")
    ax.set_title(col, fontsize=9)
    ax.set_xlabel("k")
fig.suptitle(f"Cluster validity by k (chosen k={clusters.chosen_k})")
fig.tight_layout()
show_figure(fig)

# %% [markdown]
# ## Load shapes: mean normalized profile with the 10-90% band

# %%
profiles = profile_table(raw, seg)
show_figure(profile_figure(profiles), alt="load-shape profiles")
display(seg.groupby("load_shape").agg(customers=("customer_id", "size"),
                                      revenue_12m=("revenue_12m", "sum"),
                                      kwh_365d=("kwh_365d", "sum")).round(0))

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
