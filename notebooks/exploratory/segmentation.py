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
# The segments the pipeline made (the `segment` stage's `data/segments/`, read through
# `powerlens.workspace`), so the choices behind them can be looked at: how concentrated revenue
# is, how the value weights come out, how many load shapes each shape family supports and how
# stable they are, what they look like, and how value and credit combine.
#
# Nothing is recomputed unless `recompute = True`: then `powerlens.segmentation.segment` runs
# again with the algorithm and k the stage chose per shape family (`replay_params`), and the
# notebook reports the share of accounts whose load shape differs from the pipeline's.
# Runs from any folder inside the project, or give `project_dir`.

# %% tags=["parameters"]
project_dir = None  # default: the project around the current folder
recompute = False  # re-run the segmentation with the stage's chosen algorithm and k, and compare

# %%
import json  # noqa: E402
import warnings  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import display  # noqa: E402

from powerlens import workspace  # noqa: E402
from powerlens.report.figures import profile_figure, show_figure  # noqa: E402
from powerlens.segmentation import pareto  # noqa: E402

warnings.filterwarnings("ignore")
pd.set_option("display.max_colwidth", None)
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

ws = workspace.open(project_dir)
segments = ws.segments()  # the pipeline's segments, one row per account (kept for checks)
seg_metrics = json.loads((ws.data.segments / "metrics.json").read_text(encoding="utf-8"))
feats = ws.features()
scoring = ws.manifest["scoring_cutoff"]
basis = seg_metrics["pareto_basis"]
basis_words = "revenue" if basis == "revenue_12m" else "consumption"
print(f"Project {ws.paths.root}: the segment stage's segments of {len(segments)} accounts at {scoring}; "
      f"top 20% carry {seg_metrics['pareto_top20_share']:.0%} of {basis_words}; "
      f"{seg_metrics['big_customers']} big customers; {seg_metrics['latent_big_customers']} latent big")

# %% [markdown]
# ## Value weights

# %%
weights = seg_metrics["value_weights"]
print(f"Table: value-score weights ({weights['method']} method), current and potential value")
display(pd.DataFrame({k: v for k, v in weights.items() if isinstance(v, dict)}).rename_axis("feature"))

# %% [markdown]
# ## Tier sizes

# %%
tier_order = [t for t in ("high", "medium", "low") if t in set(segments["value_tier"])]
tier_order += sorted(set(segments["value_tier"]) - set(tier_order))
sizes = segments.groupby("value_tier").agg(accounts=("customer_id", "size"), revenue_12m=("revenue_12m", "sum"),
                                           kwh_365d=("kwh_365d", "sum")).reindex(tier_order)
sizes.insert(1, "share_of_accounts", (sizes["accounts"] / sizes["accounts"].sum()).round(3))
sizes["share_of_revenue"] = (sizes["revenue_12m"] / sizes["revenue_12m"].sum()).round(3)
print("Table: accounts, revenue (12 months) and energy (365 days) per value tier")
display(sizes.round(3))

fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(sizes.index[::-1], sizes["share_of_accounts"][::-1] * 100, height=0.4, label="% of accounts",
        align="edge")
ax.barh(sizes.index[::-1], sizes["share_of_revenue"][::-1] * 100, height=-0.4, label="% of revenue", align="edge")
ax.set_xlabel("% of all accounts / of all revenue (12 months)")
ax.set_ylabel("value tier")
ax.set_title("Tier sizes: share of accounts and of revenue per value tier")
ax.legend(fontsize=8)
show_figure(fig, alt="Tier sizes: horizontal bars of the share of accounts and the share of revenue per value tier")
top = sizes.index[0]
print(f"The {top} tier holds {sizes.at[top, 'share_of_accounts']:.0%} of the accounts and "
      f"{sizes.at[top, 'share_of_revenue']:.0%} of the revenue.")

# %% [markdown]
# ## Pareto curve (from the features' revenue at the scoring cut-off)

# %%
curve, top20 = pareto(feats.set_index("customer_id")[basis])
fig, ax = plt.subplots(figsize=(5, 4))
ax.plot(curve["customer_share"] * 100, curve["revenue_share"] * 100)
ax.axvline(20, ls=":", c="grey")
ax.axhline(top20 * 100, ls=":", c="grey")
ax.set_xlabel("% of customers (largest first)")
ax.set_ylabel(f"% of {basis_words} ({basis})")
ax.set_title(f"Pareto: top 20% = {top20:.0%} of {basis_words}")
show_figure(fig, alt=f"Pareto: top 20% = {top20:.0%} of {basis_words}: cumulative share of {basis_words} "
                     "against the share of customers, largest first")
print(f"The largest 20% of the accounts carry {top20:.0%} of the {basis_words}; the segment stage "
      f"recorded {seg_metrics['pareto_top20_share']:.0%}.")

# %% [markdown]
# ## How many load shapes? The stage's clustering candidates
#
# Per shape family (interval-metered customers by their 24-hour shape, the others by their weekly
# and seasonal shape), every algorithm x k with the validity indices. Candidates with a tiny
# cluster or with clusters the names cannot tell apart are not admissible; the others are ranked
# by silhouette, Davies-Bouldin, CDI and MIA, and the first whose bootstrap stability (customers
# and days resampled) reaches the minimum is chosen.

# %%
cand = pd.read_csv(ws.data.clustering_candidates)
print("Table: the segment stage's clustering candidates (family x algorithm x k, validity indices, chosen)")
display(cand.round(3))
families = list(dict.fromkeys(cand["family"]))
if families:
    fig, axes = plt.subplots(len(families), 4, figsize=(13, 2.8 * len(families)), squeeze=False)
    for row, family in zip(axes, families, strict=True):
        c = cand[cand["family"] == family]
        chosen = c[c["chosen"].astype(bool)]
        for ax, col in zip(row, ["silhouette", "davies_bouldin", "cdi", "stability_ari"], strict=True):
            for algorithm, g in c.groupby("algorithm"):
                ax.plot(g["k"], g[col], "o-", label=algorithm)
            if len(chosen):
                ax.axvline(chosen["k"].iloc[0], ls=":", c="grey")
            ax.set_title(f"{family}: {col}", fontsize=9)
            ax.set_xlabel("k (number of load shapes)")
            ax.set_ylabel(col, fontsize=8)
        row[0].legend(fontsize=7)
    fig.suptitle("Cluster validity by k (dotted: chosen k per family)")
    fig.tight_layout()
    show_figure(fig, alt="Cluster validity by k: silhouette, Davies-Bouldin, CDI and stability per algorithm "
                         "and shape family, the chosen k dotted")
chosen_table = pd.DataFrame(seg_metrics["load_shape_families"]).T
print("Table: the clustering the stage chose per shape family")
display(chosen_table)
print("; ".join(f"{f}: {c['algorithm']} k={c['k']}, stability ARI {c['stability_ari']:.2f}"
                f"{'' if c['stable'] else ' (below the minimum)'}"
                for f, c in seg_metrics["load_shape_families"].items()) or "no shape family had enough readings")

# %% [markdown]
# ## Load shapes: mean normalized profile with the 10-90% band (the stage's profiles)

# %%
profiles = pd.read_parquet(ws.data.segments / "profiles.parquet")
shapes = sorted(set(profiles["load_shape"]))
if shapes:
    show_figure(profile_figure(profiles),
                alt=f"The pipeline's load-shape profiles: mean normalized load with the 10-90% band for "
                    f"{len(shapes)} shapes ({', '.join(shapes)})")
    largest = profiles.drop_duplicates("load_shape").nlargest(1, "n_customers").iloc[0]
    print(f"{len(shapes)} load shapes; the largest, {largest['load_shape']}, has {int(largest['n_customers'])} "
          f"accounts (by {largest['axis']}).")
else:
    print("no load-shape profiles: no account had enough readings")
print("Table: accounts, revenue and energy per load shape (the pipeline's segments)")
display(segments.groupby(["load_shape_family", "load_shape"]).agg(
    customers=("customer_id", "size"), revenue_12m=("revenue_12m", "sum"), kwh_365d=("kwh_365d", "sum")).round(0))

# %% [markdown]
# ## Value tier x credit grade

# %%
print("Table: accounts by value tier (rows) and credit grade (columns)")
display(pd.crosstab(segments["value_tier"], segments["credit_grade"], margins=True))
print("Table: accounts by customer class (rows) and value tier (columns)")
display(pd.crosstab(segments["customer_class"], segments["value_tier"]))

# %% [markdown]
# ## Latent big customers: who, and why

# %%
latent = segments[segments["latent_big_customer"]].sort_values("latent_big_rank")
print(f"Table: the {min(len(latent), 15)} highest-ranked of {len(latent)} latent big customers, with the reason")
display(latent[["customer_id", "customer_class", "capacity_kva", "latent_big_rank",
                "latent_big_reason"]].head(15))

# %% [markdown]
# ## Recomputed (only with `recompute = True`)
#
# `segmentation.segment` again on the features and the look-back readings, with the algorithm and
# k the stage chose per family. Value tiers are deterministic; load shapes can differ where a
# clustering is not stable (a replay fits once where the stage bootstrapped).

# %%
if recompute:
    from powerlens.config import load_params
    from powerlens.segmentation import read_look_back, replay_params, segment

    params = replay_params(load_params(ws.paths.params)["segment"], seg_metrics)
    look_back = read_look_back(ws.data.clean, pd.Index(feats["customer_id"]), pd.Timestamp(scoring),
                               params["clustering"]["history_days"])
    recomputed, _, _ = segment(feats, look_back, params)
    both = segments.set_index("customer_id")[["load_shape", "value_tier"]].join(
        recomputed.set_index("customer_id")[["load_shape", "value_tier"]], rsuffix="_recomputed", how="outer")
    shape_differs = both["load_shape"] != both["load_shape_recomputed"]
    tier_differs = both["value_tier"] != both["value_tier_recomputed"]
    choice = ", ".join(f"{f}: {c['algorithm']} k={c['k']}" for f, c in seg_metrics["load_shape_families"].items())
    print(f"Recomputed with the stage's choice ({choice}): "
          f"{shape_differs.mean():.1%} of accounts ({int(shape_differs.sum())} of {len(both)}) have a load shape "
          f"different from the pipeline's; {tier_differs.mean():.1%} a different value tier.")
    print("Table: accounts by the pipeline's load shape (rows) and the recomputed one (columns)")
    display(pd.crosstab(both["load_shape"].fillna("(none)"), both["load_shape_recomputed"].fillna("(none)")))
else:
    print("Shown: the pipeline's segments (recompute = False).")
