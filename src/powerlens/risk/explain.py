"""Reason codes: the features that pushed each customer's score up, in the words of the field.

For a binary task the score is the positive class's; for several classes it is the predicted
class's (or the class named by `target`), and the reasons say why that class.

A reason is a value that raises this customer's score above a typical customer's, so a feature
is named only when both hold:
- its contribution is positive (LightGBM's TreeSHAP, relative to the expected score; for the
  logistic baseline the coefficient times the value's distance from the population's mean or
  median; for HistGB the change when the value is replaced by the population's median);
- its value is not the population's typical one (`typical_values`, kept by every family model
  from the rows it was fitted on): for a number, outside the central band (`BAND`: the
  central fifth, 40th to 60th percentile) of the fitted population, so a number at the median or
  at a mass point most customers share (0 complaints, 0 days without consumption) is never a
  reason; for a flag, a category or a number with two values, not the most common value; a
  missing value is typical when most are missing. The interquartile range was too wide a band:
  it silenced a driver whose threshold sits near the median (half of the customers it raises).
An account with no such feature gets no reason rather than an unremarkable one ("a run of
zero-consumption days: 0 days" when most customers have none is not a reason). A model saved
before it kept `typical_` is explained by the contributions alone."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.features.definitions import CATEGORICAL, format_value
from powerlens.risk.prepare import meaning

BAND = (0.4, 0.6)  # the central fifth of a number's values in the fitted population: typical


def typical_values(X: pd.DataFrame) -> dict[str, tuple]:
    """The population's typical value per column, for `is_typical`: ("band", low, high,
    missing_is_typical) for a number with more than two values, ("mode", value) otherwise (a
    flag, a category, text; the value is None when most are missing)."""
    out: dict[str, tuple] = {}
    for col in X.columns:
        s = X[col]
        known = s.dropna()
        numeric = pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)
        if numeric and known.nunique() > 2:
            lo, hi = np.quantile(known.astype(float), BAND)
            out[col] = ("band", float(lo), float(hi), bool(s.isna().mean() >= 0.5))
        elif s.isna().mean() >= 0.5 or known.empty:
            out[col] = ("mode", None)
        else:
            mode = known.astype(float).mode() if numeric else known.astype(str).mode()
            out[col] = ("mode", mode.iloc[0])
    return out


def is_typical(typical: dict[str, tuple], inputs: pd.DataFrame) -> pd.DataFrame:
    """Per row and column, whether the value is the population's typical one (False for the
    columns `typical` does not know)."""
    out = pd.DataFrame(False, index=inputs.index, columns=inputs.columns)
    for col in inputs.columns:
        rule = typical.get(col)
        if rule is None:
            continue
        s = inputs[col]
        if rule[0] == "band":
            v = pd.to_numeric(s, errors="coerce")
            out[col] = v.between(rule[1], rule[2]).to_numpy() | (v.isna().to_numpy() & rule[3])
        elif rule[1] is None:
            out[col] = s.isna().to_numpy()
        elif isinstance(rule[1], str):
            out[col] = (s.notna() & (s.astype(str) == rule[1])).to_numpy()
        else:
            out[col] = (pd.to_numeric(s, errors="coerce") == float(rule[1])).to_numpy()
    return out


def population_typical(model) -> dict[str, tuple] | None:
    """The typical values a (calibrated, blended) family model kept from its fitted population,
    or None for a model saved before models kept them."""
    return next((m.typical_ for m in _layers(model) if getattr(m, "typical_", None) is not None), None)


def _layers(model):
    """The model and the models it wraps, outermost first (calibrated -> blend's first member ->
    family model): where a fitted family keeps what explanations need."""
    inner = model
    while True:
        yield inner
        if getattr(inner, "members", None):
            inner = inner.members[0]
        elif getattr(inner, "model", None) is not None and inner.model is not inner:
            inner = inner.model
        else:
            return


def reason_strengths(model, X: pd.DataFrame, target=None) -> pd.DataFrame:
    """Per row and model column, how much the column's value raised the score where it may be
    a reason (positive contribution, value not the population's typical one), else 0."""
    contrib = model.contributions(X, target) if target is not None else model.contributions(X)
    allowed = contrib > 0
    typical = population_typical(model)
    if typical is not None:
        inputs = model_inputs(model, X).reset_index(drop=True)
        flags = is_typical(typical, inputs.reindex(columns=contrib.columns))
        allowed &= ~flags.to_numpy()
    return contrib.where(allowed, 0.0)


def _ranked(model, X: pd.DataFrame, top: int, target) -> list[list[tuple[str, str, str | None, float]]]:
    """Per row, the `top` model columns that raised its score, strongest first, each as (column,
    its words, the customer's value as shown or None where it may not be shown, contribution)."""
    contrib = reason_strengths(model, X, target)
    values = contrib.to_numpy()
    names = np.array(contrib.columns)
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    words = model.describe if hasattr(model, "describe") else meaning
    shown = _showable(model_inputs(model, X))
    return [[(names[j], words(names[j]),
              format_value(names[j], shown[names[j]].iloc[i]) if names[j] in shown.columns else None,
              float(values[i, j]))
             for j in idx if values[i, j] > 0]
            for i, idx in enumerate(order)]


def reason_codes(model, X: pd.DataFrame, top: int = 3, target=None) -> list[str]:
    """Per row, the `top` model columns that raised its score most, each as its meaning and the
    customer's value ("share of bills paid on time: 40%"); columns that lowered it, and values
    that are the population's typical ones, are left out (a row may get no reason)."""
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
    for inner in _layers(model):
        if hasattr(inner, "prepare"):
            return inner.prepare(X)
    return X


def top_drivers(model, X: pd.DataFrame, top: int = 5, target=None) -> list[str]:
    """The model columns that most often appear among the top reasons of these rows (for tests
    and reviews: do the top-ranked customers' reasons point where they should?)."""
    contrib = reason_strengths(model, X, target)
    values = contrib.to_numpy()
    names = np.array(contrib.columns)
    order = np.argsort(-values, axis=1, kind="stable")[:, :3]
    counts: dict[str, int] = {}
    for i, idx in enumerate(order):
        for j in idx:
            if values[i, j] > 0:
                counts[names[j]] = counts.get(names[j], 0) + 1
    return [name for name, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:top]]
