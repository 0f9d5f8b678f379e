"""Reason codes: the features that pushed each customer's score up, in the words of the field.

For a binary task the score is the positive class's; for several classes it is the predicted
class's (or the class named by `target`), and the reasons say why that class."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.risk.prepare import meaning


def reason_codes(model, X: pd.DataFrame, top: int = 3, target=None) -> list[str]:
    contrib = model.contributions(X, target) if target is not None else model.contributions(X)
    values = contrib.to_numpy()
    names = np.array(contrib.columns)
    order = np.argsort(-values, axis=1)[:, :top]
    words = model.describe if hasattr(model, "describe") else meaning
    out = []
    for i, idx in enumerate(order):
        parts = [words(names[j]) for j in idx if values[i, j] > 0]
        out.append("; ".join(parts))
    return out


def top_drivers(model, X: pd.DataFrame, top: int = 5, target=None) -> list[str]:
    """The model columns that most often appear among the top reasons of these rows (for tests
    and reviews: do the top-ranked customers' reasons point where they should?)."""
    contrib = model.contributions(X, target) if target is not None else model.contributions(X)
    values = contrib.to_numpy()
    names = np.array(contrib.columns)
    order = np.argsort(-values, axis=1)[:, :3]
    counts: dict[str, int] = {}
    for i, idx in enumerate(order):
        for j in idx:
            if values[i, j] > 0:
                counts[names[j]] = counts.get(names[j], 0) + 1
    return [name for name, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:top]]
