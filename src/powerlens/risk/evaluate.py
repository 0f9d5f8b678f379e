"""Metrics and plots for ranked risk lists: AUCs, Brier, lift and capture at the top."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)


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
            top_shares: tuple[float, ...] = (0.05, 0.10, 0.20)) -> dict[str, float]:
    """Ranking quality (ROC-AUC, PR-AUC), probability quality (Brier, log loss) and what a
    capped list finds: lift and capture in the top 5/10/20%, precision at the capacity k."""
    y = np.asarray(y)
    score = np.asarray(score, dtype=float)
    if len(np.unique(y)) < 2:
        return {"positives": float(y.sum()), "n": float(len(y))}
    out = {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "brier": float(brier_score_loss(y, np.clip(score, 0, 1))),
        "log_loss": float(log_loss(y, np.clip(score, 1e-6, 1 - 1e-6))),
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


def reliability_figure(y, raw: np.ndarray, calibrated: np.ndarray, method: str, title: str, bins: int = 10):
    """Predicted probability against the observed rate, by decile of the prediction."""
    y = np.asarray(y)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for label, p in (("raw score", raw), (f"calibrated ({method})", calibrated)):
        order = np.argsort(p, kind="stable")
        groups = np.array_split(order, bins)
        ax.plot([p[g].mean() for g in groups if len(g)], [y[g].mean() for g in groups if len(g)], "o-", label=label)
    top = max(float(np.max(raw)), float(np.max(calibrated)), float(y.mean()) * 2, 1e-3)
    ax.plot([0, top], [0, top], ls=":", c="grey", label="perfect")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def curves_figure(y, scores: dict[str, np.ndarray], title: str):
    """ROC, precision-recall and cumulative gain, one line per model family."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    y = np.asarray(y)
    for family, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        axes[0].plot(fpr, tpr, label=f"{family} (AUC {roc_auc_score(y, s):.3f})")
        p, r, _ = precision_recall_curve(y, s)
        axes[1].plot(r, p, label=f"{family} (AP {average_precision_score(y, s):.3f})")
        order = np.argsort(-s, kind="stable")
        gain = np.cumsum(y[order]) / max(y.sum(), 1)
        axes[2].plot(np.arange(1, len(y) + 1) / len(y), gain, label=family)
    axes[0].plot([0, 1], [0, 1], ls=":", c="grey")
    axes[2].plot([0, 1], [0, 1], ls=":", c="grey", label="random")
    for ax, (xl, yl, t) in zip(axes, [("false positive rate", "true positive rate", "ROC"),
                                      ("recall", "precision", "precision-recall"),
                                      ("share of customers contacted", "share of positives found", "gain")],
                               strict=True):
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_title(t)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def importance_figure(names, importance, title: str, top: int = 15):
    order = np.argsort(importance)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(order) + 1.2))
    ax.barh([names[i] for i in order], np.asarray(importance)[order])
    ax.set_title(title)
    fig.tight_layout()
    return fig
