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
# # Risk models
#
# Churn, arrears and theft as the pipeline left them (read through `powerlens.workspace`): the
# train stage's comparison of the model families with the registered champion marked
# (`data/models/<task>/metrics.json`), what drives the champion's scores at the top of each list
# (the champion's reasons for the highest-ranked customers), and how the scores are distributed.
#
# Nothing is trained unless `refit = True`: then every family is refitted here with the `train`
# settings of params.yaml as they are (without the train stage's hyperparameter search, without
# calibration): those refits are *not* the registered champions, and the notebook says how they
# compare. Runs from any folder inside the project, or give `project_dir`.

# %% tags=["parameters"]
project_dir = None  # default: the project around the current folder
tasks = None  # default: every task the train stage trained
top_n = 50  # the highest-ranked customers whose reasons are aggregated
refit = False  # refit every family with params.yaml's settings (not the champions)
families = None  # with refit: default train.families in params.yaml

# %%
import textwrap  # noqa: E402
import warnings  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import display  # noqa: E402

from powerlens import workspace  # noqa: E402
from powerlens.report.figures import show_figure  # noqa: E402

warnings.filterwarnings("ignore")
pd.set_option("display.max_colwidth", None)
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

ws = workspace.open(project_dir)
summaries = {}
for task in tasks or sorted(p.parent.name for p in ws.data.models.glob("*/metrics.json")):
    summary = ws.champion_metrics(task)
    if "skipped" in summary:
        print(f"{task}: not trained by the pipeline ({summary['skipped']})")
    else:
        summaries[task] = summary
trained = list(summaries)
scored = [t for t in trained if t in ws.tasks()]
champions = ", ".join(f"{t} = {s['champion_family']}" for t, s in summaries.items())
print(f"Project {ws.paths.root}: trained tasks {', '.join(trained) or 'none'}; champions: {champions or 'none'}")

# %% [markdown]
# ## The registered champions: every family's metrics, the champion marked

# %%
SHOWN = ["roc_auc", "pr_auc", "brier", "lift_at_10pct", "capture_at_10pct", "precision_at_k", "search_trials"]
for task, summary in summaries.items():
    table = pd.DataFrame(summary["families"]).T
    table = table[[m for m in SHOWN if m in table.columns]].astype(float).round(4)
    champion = summary.get("champion_family")
    table.insert(0, "champion", ["champion" if f == champion else "" for f in table.index])
    table = table.rename_axis("family")
    print(f"Table: {task}: families compared by the train stage ({summary.get('validation', '')}"
          f"{', validated on ' + summary['valid_cutoff'] if 'valid_cutoff' in summary else ''}; "
          f"search: {summary.get('hyperparameter_search', '?')}); registered champion: {champion} "
          f"(calibration {summary.get('calibration', '?')}); decision: {summary.get('decision', '?')}")
    display(table)
    primary = summary.get("primary_metric", "roc_auc")
    if champion in table.index and primary in table.columns:
        print(f"{task}: the champion {champion} has {primary} {table.at[champion, primary]:.3f} on validation "
              f"(base rate {summary['families'][champion].get('base_rate', float('nan')):.3f}).")

# %% [markdown]
# ## What drives the champion at the top of each list
#
# The champion's reasons (`ws.reasons`) for the `top_n` highest-ranked customers, aggregated by
# feature: how many of these customers have the feature among their top three reasons, and its
# mean contribution to their score.

# %%
scores = ws.scores() if scored else pd.DataFrame()
for task in scored:
    top_ids = scores.nsmallest(top_n, f"rank_{task}")["customer_id"]
    reasons = ws.reasons(task, top_ids)
    if reasons.empty:
        print(f"{task}: the champion gives no positive reason for its top {len(top_ids)} customers")
        continue
    drivers = (reasons.groupby(["feature", "meaning"], as_index=False)
               .agg(customers=("customer_id", "nunique"), mean_contribution=("contribution", "mean"))
               .sort_values(["customers", "mean_contribution"], ascending=False).reset_index(drop=True))
    print(f"Table: {task}: the champion's ({summaries[task]['champion_family']}) reasons over its "
          f"{len(top_ids)} highest-ranked customers, by feature")
    display(drivers.round(4))
    shown = drivers.head(12).iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(shown) + 1.2))
    labels = [textwrap.shorten(m, 70, placeholder="...") for m in shown["meaning"]]
    bars = ax.barh(range(len(shown)), shown["customers"], tick_label=labels)
    ax.bar_label(bars, labels=[f"{n} (mean {c:.3f})" for n, c in zip(shown["customers"], shown["mean_contribution"],
                                                                        strict=True)], fontsize=8, padding=2)
    ax.set_xlabel(f"customers (of the top {len(top_ids)}) with the feature among their top 3 reasons")
    ax.set_ylabel("feature")
    ax.set_xlim(0, shown["customers"].max() * 1.3)
    ax.set_title(f"{task}: champion's top reasons over the {len(top_ids)} highest-ranked customers")
    show_figure(fig, alt=f"{task}: top reasons of the champion ({summaries[task]['champion_family']}) over the "
                         f"{len(top_ids)} highest-ranked customers: horizontal bars, per feature, of how many of them "
                         f"have it among their top three reasons, labelled with the mean contribution")
    lead = drivers.iloc[0]
    print(f"{task}: {lead['meaning']} is among the top reasons for {int(lead['customers'])} of the "
          f"{len(top_ids)} highest-ranked customers (mean contribution {lead['mean_contribution']:.3f}).")

# %% [markdown]
# ## Score distribution
#
# Scores of a rare event pile up near zero: the counts are on a log scale so that the
# high-scoring tail stays visible.

# %%
for task in scored:
    values = scores[f"score_{task}"].dropna()
    top_decile = float(values.quantile(0.9))
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.hist(values, bins=40, range=(0, max(float(values.max()), 1e-9)))
    ax.set_yscale("log")
    ax.axvline(top_decile, ls=":", c="grey", label=f"top 10% at or above {top_decile:.3f}")
    ax.set_xlabel(f"{task} score (champion {summaries[task]['champion_family']})")
    ax.set_ylabel("customers (log scale)")
    ax.set_title(f"{task}: score distribution at the scoring cut-off")
    ax.legend(fontsize=8)
    show_figure(fig, alt=f"{task}: histogram of the champion's scores of {len(values)} customers, counts on a log "
                         f"scale, the top-10% threshold {top_decile:.3f} dotted")
    print(f"{task}: median score {values.median():.3f}; the top 10% score at or above {top_decile:.3f}; "
          f"highest {values.max():.3f} ({len(values)} customers scored).")
if not scored:
    print("no scores: run the score stage (make run, or uv run dvc repro)")

# %% [markdown]
# ## Refitted here (only with `refit = True`)
#
# Every family fitted again on the features stage's training cut-offs with params.yaml's `train`
# settings, without the search: useful to try a setting, not what the pipeline registered.

# %%
if refit:
    from powerlens.config import load_config
    from powerlens.jobs.train import task_rows, train_params
    from powerlens.risk import evaluate
    from powerlens.risk.train import NotEnoughLabels, fit_and_compare

    cfg = load_config(ws.paths.params)
    params = train_params(cfg, ws.data.clean)
    for task in trained:
        feats, y = task_rows(task, ws.data.clean, ws.data.features, params, int(cfg.features.horizon_months))
        try:
            result = fit_and_compare(task, feats, y, params, families=families)
        except NotEnoughLabels as exc:
            print(f"{task}: skipped: {exc}")
            continue
        primary = summaries[task].get("primary_metric", "roc_auc")
        rows = pd.DataFrame({f: {m: r.metrics.get(m) for m in SHOWN if m != "search_trials"}
                             | {"fit_seconds": r.fit_seconds} for f, r in result.families.items()}).T
        registered = pd.Series({f: m.get(primary) for f, m in summaries[task]["families"].items()})
        rows[f"{primary}_registered"] = registered.reindex(rows.index)
        print(f"Table: {task}: families refitted here with params.yaml's settings (no search, not calibrated), "
              f"with the registered run's {primary} beside them")
        display(rows.astype(float).round(4).rename_axis("family"))
        show_figure(evaluate.curves_figure(result.y_valid, {f: r.valid_score for f, r in result.families.items()},
                                           f"{task}: refits, validation on {result.valid_cutoff.date()}"),
                    alt=f"{task}: ROC, precision-recall, gain and lift curves of the refitted families")
        best = result.best(primary).family
        champion = summaries[task]["champion_family"]
        print(f"{task}: these refits are not the champions. Best refit by {primary}: {best}; registered champion: "
              f"{champion}{' (the same family, different hyperparameters)' if best == champion else ''}.")
else:
    print("Shown: the registered champions (refit = False).")
