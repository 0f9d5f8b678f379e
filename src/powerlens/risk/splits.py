"""How a task's rows are split to fit and to judge: time-aware over cut-offs, or stratified
folds of one snapshot; labels as arrays and the minimum counts a split needs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput
from powerlens.risk import prepare
from powerlens.risk.labels import is_multiclass
from powerlens.risk.results import NotEnoughLabels


def feature_columns(feats: pd.DataFrame) -> list[str]:
    return [c for c in feats.columns if c not in prepare.ID_COLUMNS]


def time_split(feats: pd.DataFrame) -> tuple[pd.Series, pd.Timestamp]:
    """Train on the earlier cut-offs, validate on the latest one."""
    cutoffs = sorted(feats["as_of"].unique())
    if len(cutoffs) < 2:
        raise InvalidInput("a time-aware split needs at least two training cut-offs")
    valid = pd.Timestamp(cutoffs[-1])
    return feats["as_of"] < valid, valid


def label_array(y: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels as an array, and the classes of a multi-class task (None for binary)."""
    if is_multiclass(y):
        values = pd.Series(y).astype(str).to_numpy(dtype=object)
        return values, np.array(sorted(set(values)), dtype=object)
    return pd.Series(y).to_numpy().astype(int), None


def check_counts(task: str, y_train: np.ndarray, y_valid: np.ndarray, classes, min_train: int, min_valid: int) -> None:
    """NotEnoughLabels unless each side has enough positives (each class, for several)."""
    if classes is None:
        if y_train.sum() < min_train or y_valid.sum() < min_valid:
            raise NotEnoughLabels(f"{task}: too few positive labels to train (train {int(y_train.sum())}, "
                                  f"validation {int(y_valid.sum())})")
        return
    for cls in classes:
        if (y_train == cls).sum() < min_train or (y_valid == cls).sum() < min_valid:
            raise NotEnoughLabels(f"{task}: too few labels of class {cls!r} to train and validate")


def stratified(y: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def inner_time_splits(as_of: pd.Series, y: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inside the training cut-offs: fit on the earlier ones, judge on the latest training
    cut-off (one snapshot: a stratified 3-fold split)."""
    cutoffs = sorted(as_of.unique())
    if len(cutoffs) >= 2:
        latest = (as_of == cutoffs[-1]).to_numpy()
        return [(np.flatnonzero(~latest), np.flatnonzero(latest))]
    return stratified(y, 3, seed)


def training_sample(y: np.ndarray, max_rows: int | None, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(the training rows kept, their weights; None when every row is kept): at most `max_rows`
    rows, every row of the rarer class(es) and a seeded uniform sample of the most common one
    (binary: the negatives), each kept row of it weighted by how many it stands for, so the
    weighted base rate is the true one. `y` must be in canonical order (the sample then does
    not depend on the input order or the pseudonym key). A cap below the rarer classes' rows
    keeps them all and the most common class in the same proportion as the cap allows."""
    y = np.asarray(y)
    n = len(y)
    if not max_rows or n <= max_rows:
        return np.arange(n), None
    values, counts = np.unique(y, return_counts=True)
    common = values[np.argmax(counts)]
    is_common = y == common
    rare_rows = int((~is_common).sum())
    n_common = int(is_common.sum())
    kept_common = max(min(n_common, int(max_rows) - rare_rows), min(n_common, max(1, int(max_rows) // 2)))
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(np.flatnonzero(is_common), size=kept_common, replace=False))
    rows = np.sort(np.concatenate([np.flatnonzero(~is_common), chosen]))
    weight = np.where(is_common[rows], n_common / kept_common, 1.0)
    return rows, weight
