"""Task-agnostic preparation of the feature table for the risk models: which columns a task may
use, and the derived features declared in params.yaml.

Which columns (`select_columns`):
- never the row keys (`customer_id`, `as_of`);
- `train.feature_groups_by_task` keeps, for a task, only the features of the named groups of
  `features.definitions` (e.g. `acorn_group: [load_profile, theft_signal]`: what the readings
  say and nothing else; source attributes `attr_*` have no group and are left out);
- `train.exclude_features_by_task` drops named columns (and derived features) for a task;
- columns the training rows do not support (all missing, or one value only) carry no signal.

Derived features (`add_derived`): `train.derived_features` maps a name to an arithmetic
expression over feature columns and a meaning, e.g. the net margin per kWh of a PowerCo customer
(`attr_net_margin / attr_cons_12m`). A feature is derived only when the data has every column
its expression names, so one list serves every source; a division by zero gives a missing value.
They are computed inside each model (`models.RiskModel`), so a model's signature stays the
feature table and scoring new data derives them the same way. Trees cannot form a ratio of two
columns by splitting on each, so ratios a domain expert would look at (margin per kWh, bill over
credit limit) are worth stating.
"""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput
from powerlens.features.definitions import FEATURES, describe

ID_COLUMNS = ("customer_id", "as_of")
_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant, ast.Add, ast.Sub,
                  ast.Mult, ast.Div, ast.Mod, ast.USub, ast.UAdd)


def group_of(column: str) -> str | None:
    """The feature group of a column (load_profile, credit, ...); None for source attributes."""
    f = FEATURES.get(column)
    return f.group if f is not None else None


def select_columns(feats: pd.DataFrame, task: str, params: dict, rows: pd.Series | None = None) -> list[str]:
    """The feature columns a task trains on (see the module docstring), judged on `rows` (the
    training rows; all rows when None)."""
    groups = (params.get("feature_groups_by_task") or {}).get(task)
    excluded = set((params.get("exclude_features_by_task") or {}).get(task) or [])
    seen = feats if rows is None else feats.loc[rows]
    cols = []
    for col in feats.columns:
        if col in ID_COLUMNS or col in excluded:
            continue
        if groups and group_of(col) not in set(groups):
            continue
        values = seen[col]
        if values.notna().sum() == 0 or values.nunique(dropna=True) < 2:
            continue
        cols.append(col)
    if not cols:
        raise InvalidInput(f"task {task!r}: no usable feature columns (check train.feature_groups_by_task "
                         "and train.exclude_features_by_task)")
    return cols


def expression_columns(expr: str) -> list[str]:
    """The column names an expression reads; refuses anything but arithmetic on names and numbers."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise InvalidInput(f"derived feature expression {expr!r} is not arithmetic: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise InvalidInput(f"derived feature expression {expr!r}: only + - * / % on columns and numbers")
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})


def _evaluate(node, X: pd.DataFrame):
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, X)
    if isinstance(node, ast.Name):
        return X[node.id].astype(float).to_numpy()
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, X)
        return -value if isinstance(node.op, ast.USub) else value
    left, right = _evaluate(node.left, X), _evaluate(node.right, X)
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    if isinstance(node.op, ast.Mult):
        return left * right
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(node.op, ast.Mod):  # e.g. days to a contract's next anniversary: days % 365.25
            return np.mod(left, right)
        return left / right


def derived_for(task: str, params: dict, columns) -> dict[str, dict]:
    """The task's derived features: those of `train.derived_features` that the columns support,
    less any that `train.exclude_features_by_task` names for the task."""
    excluded = set((params.get("exclude_features_by_task") or {}).get(task) or [])
    spec = {k: v for k, v in (params.get("derived_features") or {}).items() if k not in excluded}
    return applicable(spec, columns)


def applicable(spec: dict | None, columns) -> dict[str, dict]:
    """The derived features whose expressions only name columns present in `columns`."""
    have = set(columns)
    out = {}
    for name, entry in (spec or {}).items():
        entry = entry if isinstance(entry, dict) else {"expr": str(entry)}
        if "expr" not in entry:
            raise InvalidInput(f"derived feature {name!r} needs an `expr`")
        if name in have:
            continue  # the feature layer already has it
        if set(expression_columns(entry["expr"])) <= have:
            out[str(name)] = {"expr": str(entry["expr"]), "meaning": str(entry.get("meaning", entry["expr"]))}
    return out


def add_derived(X: pd.DataFrame, spec: dict[str, dict] | None) -> pd.DataFrame:
    """X plus one column per derived feature (spec as returned by `applicable`)."""
    if not spec:
        return X
    new = {}
    for name, entry in spec.items():
        value = np.asarray(_evaluate(ast.parse(entry["expr"], mode="eval"), X), dtype=float)
        value = np.broadcast_to(value, (len(X),)).copy()
        value[~np.isfinite(value)] = np.nan
        new[name] = value
    return pd.concat([X, pd.DataFrame(new, index=X.index)], axis=1)


def meaning(name: str, spec: dict[str, dict] | None = None) -> str:
    """Human words for a model column: a derived feature's stated meaning, else the feature's."""
    if spec and name in spec:
        return spec[name]["meaning"]
    return describe(name)
