"""Reason codes: the features that pushed each customer's score up, in the words of the field.

For a binary task the score is the positive class's; for several classes it is the predicted
class's (or the class named by `target`), and the reasons say why that class."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.features.definitions import CATEGORICAL, format_value
from powerlens.risk.prepare import meaning


def _ranked(model, X: pd.DataFrame, top: int, target) -> list[list[tuple[str, str, str | None, float]]]:
    """Per row, the `top` model columns that raised its score, strongest first, each as (column,
    its words, the customer's value as shown or None where it may not be shown, contribution)."""
    contrib = model.contributions(X, target) if target is not None else model.contributions(X)
    values = contrib.to_numpy()
    names = np.array(contrib.columns)
    order = np.argsort(-values, axis=1)[:, :top]
    words = model.describe if hasattr(model, "describe") else meaning
    shown = _showable(model_inputs(model, X))
    return [[(names[j], words(names[j]),
              format_value(names[j], shown[names[j]].iloc[i]) if names[j] in shown.columns else None,
              float(values[i, j]))
             for j in idx if values[i, j] > 0]
            for i, idx in enumerate(order)]


def reason_codes(model, X: pd.DataFrame, top: int = 3, target=None) -> list[str]:
    """Per row, the `top` model columns that raised its score most, each as its meaning and the
    customer's value ("share of bills paid on time: 40%"); columns that lowered it are left out."""
    return ["; ".join(words if value is None else f"{words}: {value}" for _, words, value, _ in reasons)
            for reasons in _ranked(model, X, top, target)]


def reason_table(model, X: pd.DataFrame, customer_ids, top: int = 3, target=None) -> pd.DataFrame:
    """The same reasons as rows: customer_id, order (1 = the strongest), feature, meaning, value
    (shown as in reason_codes, empty where a value may not be shown) and contribution (how much
    the column raised the score, on the model's contribution scale)."""
    ids = np.asarray(customer_ids)
    rows = [{"customer_id": ids[i], "order": k + 1, "feature": name, "meaning": words,
             "value": "" if value is None else value, "contribution": contribution}
            for i, reasons in enumerate(_ranked(model, X, top, target))
            for k, (name, words, value, contribution) in enumerate(reasons)]
    return pd.DataFrame(rows, columns=["customer_id", "order", "feature", "meaning", "value", "contribution"])


def _showable(inputs: pd.DataFrame) -> pd.DataFrame:
    """The model inputs whose value a reason may show: numbers and the known categories (class,
    region, industry). Other text columns of a source (a pseudonymized grid-area code, free
    text) keep their value to themselves: a reason must not carry an identifier."""
    return inputs[[c for c in inputs.columns if pd.api.types.is_numeric_dtype(inputs[c]) or c in CATEGORICAL]]


def model_inputs(model, X: pd.DataFrame) -> pd.DataFrame:
    """The columns a (calibrated, blended) family model sees for X: the features plus the
    derived ones, so a reason on a derived column can show its value too."""
    inner = model
    while True:
        if hasattr(inner, "prepare"):
            return inner.prepare(X)
        if getattr(inner, "members", None):
            inner = inner.members[0]
        elif getattr(inner, "model", None) is not None and inner.model is not inner:
            inner = inner.model
        else:
            return X


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
