"""Scoring with a fitted model, the one way: every customer's score and rank per task, the
predicted class of a multi-class task, and reason codes for the customers someone will read.

- `score_frame`: the long table (customer_id, task, score, rank, reasons) that the score job
  writes and a snapshot scores with, sorted by rank; rank 1 is the highest score. Calibration is
  strictly increasing, so equal scores mean equal raw scores; those are ordered by a hash of the
  customer's feature values (`features.engine.row_fingerprint`), which the pseudonym key does
  not decide, and only customers whose features are identical by customer id. The ranks do not
  depend on the rows' order.
- `add_reasons`: reasons for more customers of a scored table later (a report explains the
  customers it shows, not every account).
- `score_wide`: one row per customer with one probability per class (`powerlens score TASK`).

Pure: no MLflow, no files. BLAS and OpenMP run on one thread (one pass of prediction: threads
cost more than they save; the many small predictions of the reasons are 10x faster).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from powerlens.errors import PowerlensError, UsageError
from powerlens.risk.explain import reason_codes
from powerlens.risk.models import one_thread

SCORE_COLUMNS = ["customer_id", "task", "score", "rank", "reasons"]


class FeatureMismatch(PowerlensError, ValueError):
    """The data's features do not match the model's signature."""


def model_features(model, feats: pd.DataFrame) -> pd.DataFrame:
    """The columns the model takes (its signature, `feature_names_in_`), in its order."""
    return feats[list(model.feature_names_in_)]


def check_signature(model, feats: pd.DataFrame) -> list[str]:
    """The feature columns the model does not use (to say so); FeatureMismatch when the data
    lacks columns the model needs."""
    expected = list(model.feature_names_in_)
    missing = [c for c in expected if c not in feats.columns]
    extra = [c for c in feats.columns if c not in expected and c not in ("customer_id", "as_of")]
    if missing:
        raise FeatureMismatch(f"the data does not match the model's signature: missing {', '.join(missing[:10])}"
                              + (f" (+{len(missing) - 10} more)" if len(missing) > 10 else "")
                              + (f"; extra {', '.join(extra[:10])}" if extra else ""))
    return extra


def _proba(model, X: pd.DataFrame) -> np.ndarray:
    with one_thread():
        return np.asarray(model.predict_proba(X))


def rank_scores(customer_ids: pd.Series, score: np.ndarray, *tie_breaks: np.ndarray) -> np.ndarray:
    """1 for the highest score; ties broken by `tie_breaks` in turn (the first first, the lowest
    value first: e.g. minus the raw score, then a hash of the features), then by customer id
    (independent of the rows' order)."""
    keys = (np.asarray(customer_ids, dtype=str), *(np.asarray(t) for t in reversed(tie_breaks)),
            -np.asarray(score, dtype=float))
    order = np.lexsort(keys)
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(1, len(order) + 1)
    return rank


def _proba_and_raw(model, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities (n x K) and the uncalibrated score behind each row's score (the
    positive class's, or the predicted class's; the probability itself for a model without a
    calibrator): a tie-break that keeps the model's own ranking where scores are equal."""
    if not hasattr(model, "proba_and_raw"):
        proba = _proba(model, X)
        return proba, (proba[:, 1] if proba.shape[1] == 2 else proba.max(axis=1))
    with one_thread():
        proba, raw = model.proba_and_raw(X)
    proba, raw = np.asarray(proba), np.asarray(raw, dtype=float)
    return proba, (raw if raw.ndim == 1 else raw[np.arange(len(raw)), proba.argmax(axis=1)])


def score_frame(model, feats: pd.DataFrame, task: str, *, model_version: int | None = None,
                explain: Iterable[str] | str | None = None) -> pd.DataFrame:
    """Every customer of `feats` scored by `model`, highest score first: customer_id, task,
    score (the positive class's probability; for several classes the predicted class's, with
    `predicted_class`), rank (equal scores ordered by the raw score, then by a hash of the
    feature values, then by customer id), reasons (for the customers in `explain`, `"all"` for
    everyone; else empty), and `model_version` when given."""
    from powerlens.features.engine import row_fingerprint

    X = model_features(model, feats)
    proba, raw = _proba_and_raw(model, X)
    frame = pd.DataFrame({"customer_id": feats["customer_id"].astype(str).to_numpy(), "task": task,
                          "score": proba[:, 1] if proba.shape[1] == 2 else proba.max(axis=1)})
    if proba.shape[1] > 2:
        frame["predicted_class"] = np.asarray(model.classes_)[proba.argmax(axis=1)]
    frame["rank"] = rank_scores(frame["customer_id"], frame["score"].to_numpy(), -raw, row_fingerprint(X))
    frame = frame.sort_values("rank", kind="stable").reset_index(drop=True)
    frame["reasons"] = ""
    if model_version is not None:
        frame["model_version"] = int(model_version)
    if explain is not None:
        wanted = frame["customer_id"] if isinstance(explain, str) and explain == "all" else explain
        frame = add_reasons(frame, model, feats, wanted)
    return frame


def add_reasons(scores: pd.DataFrame, model, feats: pd.DataFrame, customer_ids: Iterable[str], *,
                task: str | None = None) -> pd.DataFrame:
    """A copy of `scores` with the reasons (risk.explain.reason_codes) of `customer_ids` filled
    in; `task` (the one `model` scored) is needed when the table holds several tasks."""
    if task is None and "task" in scores and scores["task"].nunique() > 1:
        raise UsageError("add_reasons: the scores hold several tasks: say which one the model scored (task=...)")
    scores = scores.copy()
    ids = set(pd.Series(list(customer_ids), dtype=object).astype(str))
    chosen = scores["customer_id"].astype(str).isin(ids)
    if task is not None:
        chosen &= scores["task"] == task
    rows = scores.index[chosen.to_numpy()]
    if not len(rows):
        return scores
    by_id = feats.assign(customer_id=feats["customer_id"].astype(str)).set_index("customer_id")
    X = model_features(model, by_id.loc[scores.loc[rows, "customer_id"].astype(str)]).reset_index(drop=True)
    with one_thread():  # many small predictions: 10x faster on one thread
        scores.loc[rows, "reasons"] = reason_codes(model, X)
    return scores


def score_wide(model, feats: pd.DataFrame, *, reasons: bool = True) -> pd.DataFrame:
    """One row per customer: customer_id, score (binary) or score_<class> (several classes: each
    class's probability), and the reasons of its score (of the predicted class)."""
    X = model_features(model, feats)
    proba = _proba(model, X)
    frame = pd.DataFrame({"customer_id": feats["customer_id"].to_numpy()})
    if proba.shape[1] == 2:
        frame["score"] = proba[:, 1]
    else:
        for i, cls in enumerate(model.classes_):
            frame[f"score_{cls}"] = proba[:, i]
    if reasons:
        with one_thread():
            frame["reasons"] = reason_codes(model, X.reset_index(drop=True))
    return frame


def empty_scores(multiclass: bool = False, model_version: bool = False) -> pd.DataFrame:
    """A scores table with its columns and no rows."""
    cols = SCORE_COLUMNS[:3] + (["predicted_class"] if multiclass else []) + SCORE_COLUMNS[3:]
    return pd.DataFrame(columns=cols + (["model_version"] if model_version else []))
