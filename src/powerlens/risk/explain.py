"""Reason codes: the features that pushed each customer's score up, in the words of the field."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.features.definitions import describe


def reason_codes(model, X: pd.DataFrame, top: int = 3) -> list[str]:
    contrib = model.contributions(X)
    values = contrib.to_numpy()
    names = np.array(contrib.columns)
    order = np.argsort(-values, axis=1)[:, :top]
    out = []
    for i, idx in enumerate(order):
        parts = [describe(names[j]) for j in idx if values[i, j] > 0]
        out.append("; ".join(parts))
    return out
