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
# Churn, arrears and theft: labels from the window after each training cut-off
# (`powerlens.risk.labels.derive`), every model family fitted on the earlier cut-offs and
# compared on the latest (`powerlens.risk.train.fit_and_compare`), with the `train` section of
# params.yaml (hyperparameters as set there: the search runs in the train stage). Nothing is
# logged or promoted here: the train stage does that. Run it from the project root after the
# validate stage.

# %% tags=["parameters"]
data_dir = "data"
clean_dir = None  # default: <data_dir>/clean
params_path = "params.yaml"
tasks = None  # default: train.tasks in params.yaml
families = None  # default: train.families in params.yaml

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
from powerlens.risk import evaluate, labels  # noqa: E402
from powerlens.risk.explain import reason_codes  # noqa: E402
from powerlens.risk.train import NotEnoughLabels, fit_and_compare  # noqa: E402

warnings.filterwarnings("ignore")
plt.rcParams.update({"figure.dpi": 96, "axes.grid": True, "grid.alpha": 0.3})

CLEAN = Path(clean_dir) if clean_dir else Path(data_dir) / "clean"
params = load_params(params_path)
fp, tp = params["features"], params["train"]
tasks = list(tasks or tp["tasks"])
if families:
    tp = {**tp, "families": list(families)}
clean = F.load_clean(CLEAN)
training, _ = F.cutoffs_from_params(clean, fp)
feats = F.build_many(clean, training, **F.build_options(fp))
print(f"{len(feats)} rows over {len(training)} training cut-offs "
      f"({', '.join(str(t.date()) for t in training)}); horizon {fp['horizon_months']} months")

# %% [markdown]
# ## Labels: base rate per cut-off

# %%
y = {task: labels.derive(task, clean, feats, fp["horizon_months"], tp["arrears_days_past_due"])
     for task in tasks}
rates = pd.DataFrame({task: y[task].groupby(feats["as_of"]).mean() for task in tasks})
rates.index = [str(t.date()) for t in rates.index]
display(rates.round(4))

# %% [markdown]
# ## Families compared on the latest cut-off

# %%
results = {}
for task in tasks:
    try:
        results[task] = fit_and_compare(task, feats, y[task], tp)
    except NotEnoughLabels as exc:
        print(f"skipped: {exc}")
shown = ["roc_auc", "pr_auc", "brier", "lift_at_10pct", "capture_at_10pct", "precision_at_k"]
rows = [{"task": task, "family": family, **{m: fr.metrics.get(m) for m in shown},
         "fit_seconds": fr.fit_seconds}
        for task, result in results.items() for family, fr in result.families.items()]
display(pd.DataFrame(rows).round(4))

# %% [markdown]
# ## ROC, precision-recall and gain per task

# %%
for task, result in results.items():
    fig = evaluate.curves_figure(result.y_valid,
                                 {f: r.valid_score for f, r in result.families.items()},
                                 f"{task}: validation on {result.valid_cutoff.date()}")
    show_figure(fig)

# %% [markdown]
# ## What drives the best family of each task

# %%
primary = tp.get("primary_metric", "roc_auc")
for task, result in results.items():
    best = result.best(primary)
    importance = best.model.importance(result.X_valid)  # per model column, derived features included
    fig = evaluate.importance_figure([best.model.describe(c) for c in importance.index], importance.to_numpy(),
                                     f"{task}: {best.family} importance", top=12)
    show_figure(fig)

# %% [markdown]
# ## Why the top of each list is there: reason codes of the ten highest scores

# %%
for result in results.values():
    best = result.best(primary)
    top = result.X_valid.assign(_score=best.valid_score).nlargest(10, "_score").drop(columns="_score")
    display(pd.DataFrame({"score": sorted(best.valid_score, reverse=True)[:10],
                          "reasons": reason_codes(best.model, top)}).round(3))
