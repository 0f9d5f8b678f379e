"""Metrics and plots for ranked risk lists: AUCs, Brier, lift and capture at the top.

Binary scores are the positive class's probability (n,); multi-class scores are one column per
class (n x K, in the model's class order). Multi-class metrics are one-vs-rest: the primary
`roc_auc` is the macro average of each class against the others (every class counts the same,
whatever its size), with the per-class AUCs, accuracy and balanced accuracy, macro F1, the
multi-class Brier score and log loss, and each class's lift in its top 10%.

The curves (ROC, precision-recall, gain, lift, calibration) are tables first (`curve_tables`,
`calibration_table`: long format, one `series` per family or family and class), written as CSV
for `dvc plots` and drawn from the same tables for MLflow, so both show the same numbers.

The figures are `matplotlib.figure.Figure` objects, not pyplot's: importing this module and
drawing leave the process's backend and pyplot's list of open figures alone.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

GRID = np.linspace(0, 1, 101)
# the curves' tables and their columns, as `dvc plots` reads them (plots/train/<task>/<kind>.csv)
PLOT_COLUMNS = {"roc": ["series", "false_positive_rate", "true_positive_rate"],
                "pr": ["series", "recall", "precision"],
                "gain": ["series", "share_contacted", "share_found"],
                "lift": ["series", "share_contacted", "lift"],
                "calibration": ["series", "predicted", "observed"]}


def lift_at(y: np.ndarray, score: np.ndarray, share: float) -> tuple[float, float]:
    """(lift, capture) in the top `share` of scores: precision over base rate, share of all
    positives found."""
    y = np.asarray(y)
    n = max(int(np.ceil(share * len(y))), 1)
    top = np.argsort(-np.asarray(score), kind="stable")[:n]
    base = y.mean()
    if base == 0:
        return float("nan"), float("nan")
    return float(y[top].mean() / base), float(y[top].sum() / y.sum())


def metrics(y, score, top_share: float = 0.10, capacity: int | None = None,
            top_shares: tuple[float, ...] = (0.05, 0.10, 0.20), classes=None) -> dict[str, float]:
    """Ranking quality (ROC-AUC, PR-AUC), probability quality (Brier, log loss) and what a
    capped list finds: lift and capture in the top 5/10/20%, precision at the capacity k.
    A 2-D score means several classes (`classes` in column order): see `multiclass_metrics`."""
    score = np.asarray(score, dtype=float)
    if score.ndim == 2:
        return multiclass_metrics(y, score, classes if classes is not None else np.unique(y), top_share)
    y = np.asarray(y).astype(int)
    if len(np.unique(y)) < 2:
        return {"positives": float(y.sum()), "n": float(len(y))}
    out = {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "brier": float(brier_score_loss(y, np.clip(score, 0, 1))),
        "log_loss": float(log_loss(y, np.clip(score, 1e-6, 1 - 1e-6), labels=[0, 1])),
        "base_rate": float(y.mean()),
        "positives": float(y.sum()),
        "n": float(len(y)),
    }
    for share in sorted(set(top_shares) | {top_share}):
        lift, capture = lift_at(y, score, share)
        pct = int(round(share * 100))
        out[f"lift_at_{pct}pct"] = lift
        out[f"capture_at_{pct}pct"] = capture
    if capacity:
        k = min(int(capacity), len(y))
        top = np.argsort(-score, kind="stable")[:k]
        out["precision_at_k"] = float(y[top].mean())
    return out


def _ranking_metric(name: str, y: np.ndarray, score: np.ndarray, classes=None) -> float:
    """ROC-AUC or PR-AUC of a binary score, or their macro one-vs-rest average for a matrix over
    the classes present (as `multiclass_metrics` judges it)."""
    fn = average_precision_score if name == "pr_auc" else roc_auc_score
    if score.ndim == 1:
        return float(fn(y, score))
    p = np.clip(score, 1e-9, 1)
    p = p / p.sum(axis=1, keepdims=True)
    return float(np.mean([fn(y == c, p[:, k]) for k, c in enumerate(classes) if 0 < (y == c).sum() < len(y)]))


class _TiedRanks:
    """A score's distinct values in order, so that the ROC-AUC of any resample (rows drawn with
    replacement) is a weighted count: each positive beats the negatives below its value and
    half of those tied with it (as sklearn's roc_auc_score counts ties)."""

    def __init__(self, score: np.ndarray, positive: np.ndarray) -> None:
        _, self.level = np.unique(score, return_inverse=True)
        self.n_levels = int(self.level.max()) + 1 if len(score) else 0
        self.positive = positive

    def auc_of(self, rows: np.ndarray) -> float:
        weight = np.bincount(rows, minlength=len(self.level)).astype(float)
        pos = np.bincount(self.level, weights=weight * self.positive, minlength=self.n_levels)
        neg = np.bincount(self.level, weights=weight * ~self.positive, minlength=self.n_levels)
        below = np.cumsum(neg) - neg
        n_pos, n_neg = pos.sum(), neg.sum()
        if n_pos == 0 or n_neg == 0:
            return float("nan")
        return float((pos * (below + 0.5 * neg)).sum() / (n_pos * n_neg))


def paired_lead(y, score, baseline, metric: str = "roc_auc", classes=None, n_boot: int = 200,
                level: float = 0.9, seed: int = 0, folds=None) -> dict[str, float]:
    """How far `score` leads `baseline` on `metric` (roc_auc or pr_auc), with a paired
    bootstrap interval: both are judged on the same resampled customers (stratified by class),
    so a reviewer can tell a real lead from the noise of a few dozen positives. With `folds`
    (cross-validation: (fit rows, held-out rows) per fold) the lead is the mean of the folds'
    leads, as the folds' metrics are averaged, and each fold is resampled within itself.
    Keys: lead, lead_low, lead_high (the central `level` interval)."""
    y = np.asarray(y)
    score, baseline = np.asarray(score, dtype=float), np.asarray(baseline, dtype=float)
    if score.ndim == 2 and classes is None:
        classes = np.unique(y)
    labels = classes if classes is not None else (0, 1)
    parts = [np.asarray(idx) for _, idx in folds] if folds else [np.arange(len(y))]
    strata = [[part[y[part] == c] for c in labels] for part in parts]

    def lead_of(rows_per_part) -> float:
        return float(np.mean([_ranking_metric(metric, y[r], score[r], classes)
                              - _ranking_metric(metric, y[r], baseline[r], classes) for r in rows_per_part]))

    lead = lead_of(parts)
    rng = np.random.default_rng(seed)
    resamples = ([np.concatenate([rng.choice(g, len(g)) for g in groups if len(g)]) for groups in strata]
                 for _ in range(n_boot))
    if metric == "roc_auc" and score.ndim == 1:  # the same resamples, each judged in O(n) (no sort per resample)
        positive = np.asarray(y).astype(int) == 1
        ranked = [(_TiedRanks(score, positive), _TiedRanks(baseline, positive))]
        leads = [float(np.mean([a.auc_of(r) - b.auc_of(r) for r in rows_per_part])) for rows_per_part in resamples
                 for a, b in ranked]
    else:
        leads = [lead_of(rows_per_part) for rows_per_part in resamples]
    low, high = np.nanquantile(leads, [(1 - level) / 2, (1 + level) / 2])
    return {"lead": lead, "lead_low": float(low), "lead_high": float(high)}


def class_key(cls) -> str:
    """A class name usable in metric names and CSV columns."""
    return "".join(ch if ch.isalnum() else "_" for ch in str(cls)).strip("_").lower() or "class"


def multiclass_metrics(y, proba: np.ndarray, classes, top_share: float = 0.10) -> dict[str, float]:
    """One-vs-rest metrics of a probability matrix (n x K); `roc_auc` is the macro average."""
    y = np.asarray(y)
    classes = np.asarray(classes)
    Y = (y[:, None] == classes[None, :]).astype(int)
    present = Y.sum(axis=0) > 0
    if present.sum() < 2:
        return {"n": float(len(y))}
    p = np.clip(proba, 1e-9, 1)
    p = p / p.sum(axis=1, keepdims=True)
    predicted = classes[p.argmax(axis=1)]
    per_class = {k: float(roc_auc_score(Y[:, k], p[:, k])) for k in range(len(classes)) if 0 < Y[:, k].sum() < len(y)}
    out = {
        "roc_auc": float(np.mean(list(per_class.values()))),
        "roc_auc_weighted": float(np.average(list(per_class.values()),
                                             weights=[Y[:, k].sum() for k in per_class])),
        "pr_auc": float(np.mean([average_precision_score(Y[:, k], p[:, k]) for k in per_class])),
        "brier": float(np.mean(np.sum((p - Y) ** 2, axis=1))),
        "log_loss": float(log_loss(y, p, labels=list(classes))),
        "accuracy": float(accuracy_score(y, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(y, predicted)),
        "f1_macro": float(f1_score(y, predicted, average="macro", labels=list(classes))),
        "n_classes": float(len(classes)),
        "n": float(len(y)),
    }
    pct = int(round(top_share * 100))
    for k, auc in per_class.items():
        key = class_key(classes[k])
        out[f"roc_auc_{key}"] = auc
        out[f"lift_at_{pct}pct_{key}"] = lift_at(Y[:, k], p[:, k], top_share)[0]
    return out


def _one_vs_rest(y, scores: dict[str, np.ndarray], classes=None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """series name -> (0/1 labels, score): a family for binary scores, `family: class` for
    multi-class ones."""
    out = {}
    y = np.asarray(y)
    for family, s in scores.items():
        s = np.asarray(s, dtype=float)
        if s.ndim == 1:
            out[family] = (y.astype(int), s)
        else:
            for k, cls in enumerate(classes):
                out[f"{family}: {cls}"] = ((y == cls).astype(int), s[:, k])
    return out


def curve_tables(y, scores: dict[str, np.ndarray], classes=None) -> dict[str, pd.DataFrame]:
    """ROC, precision-recall, cumulative gain and lift as long tables on fixed grids (101 points
    per series), one series per family (per family and class for several classes)."""
    rows = {"roc": [], "pr": [], "gain": [], "lift": []}
    for series, (yy, s) in _one_vs_rest(y, scores, classes).items():
        if yy.sum() == 0 or yy.sum() == len(yy):
            continue
        fpr, tpr, _ = roc_curve(yy, s)
        rows["roc"].append(pd.DataFrame({"series": series, "false_positive_rate": GRID,
                                         "true_positive_rate": np.interp(GRID, fpr, tpr)}))
        precision, recall, _ = precision_recall_curve(yy, s)
        order = np.argsort(recall, kind="stable")
        # interpolated precision: the best precision at this recall or more
        best = np.maximum.accumulate(precision[order][::-1])[::-1]
        rows["pr"].append(pd.DataFrame({"series": series, "recall": GRID,
                                        "precision": np.interp(GRID, recall[order], best)}))
        ranked = yy[np.argsort(-s, kind="stable")]
        found = np.concatenate([[0.0], np.cumsum(ranked) / yy.sum()])
        share = np.arange(len(yy) + 1) / len(yy)
        gain = np.interp(GRID, share, found)
        rows["gain"].append(pd.DataFrame({"series": series, "share_contacted": GRID, "share_found": gain}))
        with np.errstate(divide="ignore", invalid="ignore"):
            lift = np.where(GRID > 0, gain / GRID, np.nan)
        rows["lift"].append(pd.DataFrame({"series": series, "share_contacted": GRID[1:], "lift": lift[1:]}))
    return {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in rows.items()}


def empty_plot_tables() -> dict[str, pd.DataFrame]:
    """The plot tables with their columns and no rows (a skipped task still writes them, so the
    DVC stage's plot outputs exist)."""
    return {kind: pd.DataFrame(columns=cols) for kind, cols in PLOT_COLUMNS.items()}


def plot_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every plot table with exactly its columns, rounded to 5 digits (a missing or empty one:
    its columns and no rows), as they are written for `dvc plots` and logged to MLflow."""
    out = {}
    for kind, cols in PLOT_COLUMNS.items():
        table = tables.get(kind)
        table = table if table is not None and len(table) else pd.DataFrame(columns=cols)
        out[kind] = table[cols].round(5)
    return out


def calibration_table(y, raw, calibrated, method: str, classes=None, bins: int = 10) -> pd.DataFrame:
    """Predicted probability against the observed rate, by decile of the prediction: the raw
    score and the calibrated one (per class for several classes: calibrated only)."""
    y = np.asarray(y)
    series = {}
    raw, calibrated = np.asarray(raw, dtype=float), np.asarray(calibrated, dtype=float)
    if raw.ndim == 1:
        series = {"raw score": (y.astype(int), raw), f"calibrated ({method})": (y.astype(int), calibrated)}
    else:
        for k, cls in enumerate(classes):
            series[f"{cls} (calibrated, {method})"] = ((y == cls).astype(int), calibrated[:, k])
    frames = []
    for name, (yy, p) in series.items():
        groups = [g for g in np.array_split(np.argsort(p, kind="stable"), bins) if len(g)]
        frames.append(pd.DataFrame({"series": name, "predicted": [float(p[g].mean()) for g in groups],
                                    "observed": [float(yy[g].mean()) for g in groups]}))
    top = max(float(pd.concat(frames)[["predicted", "observed"]].to_numpy().max()), 1e-3)
    frames.append(pd.DataFrame({"series": "perfect", "predicted": [0.0, top], "observed": [0.0, top]}))
    return pd.concat(frames, ignore_index=True)


AXES = {"roc": ("false_positive_rate", "true_positive_rate", "ROC"),
        "pr": ("recall", "precision", "precision-recall"),
        "gain": ("share_contacted", "share_found", "cumulative gain"),
        "lift": ("share_contacted", "lift", "lift")}


def _draw(ax, table: pd.DataFrame, x: str, y: str, title: str, reference=None) -> None:
    for series, part in table.groupby("series", sort=False):
        ax.plot(part[x], part[y], label=str(series), lw=1.4)
    if reference is not None:
        ax.plot(*reference, ls=":", c="grey", label="random")
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y.replace("_", " "))
    ax.set_title(title)
    ax.legend(fontsize=7)


def curves_figure(y, scores: dict[str, np.ndarray], title: str, classes=None, tables=None):
    """ROC, precision-recall, cumulative gain and lift, one line per model family (per family and
    class for several classes)."""
    tables = tables if tables is not None else curve_tables(y, scores, classes)
    fig = Figure(figsize=(18, 4.3))
    axes = fig.subplots(1, 4)
    refs = {"roc": ([0, 1], [0, 1]), "gain": ([0, 1], [0, 1]), "lift": ([0, 1], [1, 1]), "pr": None}
    for ax, (kind, (x, yy, name)) in zip(axes, AXES.items(), strict=True):
        if len(tables.get(kind, [])):
            _draw(ax, tables[kind], x, yy, name, refs[kind])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def reliability_figure(y, raw: np.ndarray, calibrated: np.ndarray, method: str, title: str, bins: int = 10,
                       classes=None, table=None):
    """Predicted probability against the observed rate, by decile of the prediction."""
    table = table if table is not None else calibration_table(y, raw, calibrated, method, classes, bins)
    fig = Figure(figsize=(5.5, 4.8))
    ax = fig.subplots()
    for series, part in table.groupby("series", sort=False):
        style = {"ls": ":", "c": "grey"} if series == "perfect" else {"marker": "o"}
        ax.plot(part["predicted"], part["observed"], label=str(series), **style)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def importance_figure(names, importance, title: str, top: int = 15, wrap: int = 48):
    """The `top` features by importance, labelled with their descriptions wrapped to `wrap`
    characters (the longest run to ~100), the figure as wide as the labels need."""
    order = np.argsort(importance)[::-1][:top][::-1]
    labels = [textwrap.fill(str(names[i]), wrap) for i in order]
    lines = sum(label.count("\n") + 1 for label in labels)
    longest = max((len(line) for label in labels for line in label.split("\n")), default=10)
    fig = Figure(figsize=(4.5 + 0.075 * longest, 0.22 * lines + 0.12 * len(order) + 1.2))
    ax = fig.subplots()
    ax.barh(range(len(order)), np.asarray(importance)[order])
    ax.set_yticks(range(len(order)), labels, fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig
