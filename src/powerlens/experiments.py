"""DVC experiments side by side: one row per experiment, the params that differ from the
baseline and each task's headline metrics (`powerlens compare --experiments`, `make compare`).

`dvc exp show` prints every param, metric, dependency and output hash (hundreds of columns);
this reads its JSON (`dvc exp show --json`) and keeps what a comparison needs:

- rows: the workspace, the baseline commit, then the baseline's experiments (oldest first);
- params: only those whose value differs from the baseline's in some row (dotted keys; the
  `params.yaml:` prefix dropped, other params files keep theirs);
- metrics: per `metrics/train_<task>.json`, the best family, its primary metric (roc_auc) and
  pr_auc, and the champion family after the run (an experiment never changes the champion:
  its models are registered as challengers).

Everything but `exp_show_json` is pure formatting (unit-tested on a captured sample).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARAMS_FILE = "params.yaml"
TRAIN_METRICS = re.compile(r"(?:^|/)train_(?P<task>[^/]+)\.json$")
MISSING = "-"


@dataclass
class Row:
    """One column set of `dvc exp show`: the workspace, the baseline or an experiment."""

    label: str                       # workspace, the baseline's name (branch) and short rev, or the experiment's name
    kind: str                        # workspace | baseline | experiment
    rev: str
    params: dict[str, Any] = field(default_factory=dict)     # dotted key -> value
    metrics: dict[str, dict] = field(default_factory=dict)   # metrics file -> its data
    error: str | None = None


def exp_show_json(root: Path | str | None = None) -> list[dict]:
    """`dvc exp show --json` of the project at `root` (default: the current folder)."""
    proc = subprocess.run([sys.executable, "-m", "dvc", "exp", "show", "--json"], cwd=root,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        from powerlens.errors import PowerlensError

        raise PowerlensError(f"dvc exp show failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return json.loads(proc.stdout or "[]")


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def _error(entry: dict) -> str | None:
    err = entry.get("error") or (entry.get("data") or {}).get("error")
    if not err:
        return None
    return err.get("msg") or err.get("type") or str(err) if isinstance(err, dict) else str(err)


def _row(entry: dict, kind: str, label: str) -> Row:
    data = entry.get("data") or {}
    params: dict[str, Any] = {}
    for file, content in (data.get("params") or {}).items():
        values = (content or {}).get("data") or {}
        prefix = "" if file == PARAMS_FILE else f"{file}:"
        params.update({prefix + k: v for k, v in _flatten(values).items()})
    metrics = {file: (content or {}).get("data") or {} for file, content in (data.get("metrics") or {}).items()}
    return Row(label=label, kind=kind, rev=str(entry.get("rev") or ""), params=params, metrics=metrics,
               error=_error(entry))


def rows(show: list[dict]) -> list[Row]:
    """The workspace, each baseline and its experiments, in that order, from `dvc exp show --json`."""
    out: list[Row] = []
    for entry in show:
        rev = str(entry.get("rev") or "")
        if rev == "workspace":
            out.append(_row(entry, "workspace", "workspace"))
            continue
        name = entry.get("name")
        label = f"{name} ({rev[:7]})" if name and name != rev else rev[:7]
        out.append(_row(entry, "baseline", label))
        experiments = []
        for exp in entry.get("experiments") or []:
            revs = exp.get("revs") or []
            if not revs:
                continue
            last = revs[0]
            exp_name = exp.get("name") or last.get("name") or str(last.get("rev") or "")[:7]
            experiments.append((((last.get("data") or {}).get("timestamp") or ""), _row(last, "experiment", exp_name)))
        out.extend(row for _, row in sorted(experiments, key=lambda t: t[0]))
    return out


def baseline_of(table_rows: list[Row]) -> Row | None:
    return next((r for r in table_rows if r.kind == "baseline"), None) or (table_rows[0] if table_rows else None)


def changed_params(table_rows: list[Row], baseline: Row | None = None) -> list[str]:
    """The params whose value differs from the baseline's in some row, in the params' order."""
    baseline = baseline or baseline_of(table_rows)
    if baseline is None:
        return []
    keys: list[str] = list(baseline.params)
    for row in table_rows:
        keys += [k for k in row.params if k not in keys]
    return [k for k in keys if any(not r.error and r.params.get(k) != baseline.params.get(k) for r in table_rows)]


def headline(metrics: dict) -> dict[str, Any]:
    """A train_<task>.json's headline: the best family, its primary metric and pr_auc, the champion family."""
    best = metrics.get("best_family")
    primary = metrics.get("primary_metric") or "roc_auc"
    fam = (metrics.get("families") or {}).get(best) or {}
    if "skipped" in metrics:
        return {"best": "skipped"}
    return {"best": best, primary: fam.get(primary), "pr_auc": fam.get("pr_auc"),
            "champion": metrics.get("champion_family")}


def tasks_of(table_rows: list[Row]) -> list[str]:
    """The tasks with a train_<task>.json in some row (in first-seen order)."""
    tasks: list[str] = []
    for row in table_rows:
        for file in row.metrics:
            m = TRAIN_METRICS.search(file)
            if m and m["task"] not in tasks:
                tasks.append(m["task"])
    return tasks


def _cell(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def table(show: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and cells: experiment, the changed params, then per task best / metric / pr_auc / champion."""
    table_rows = rows(show)
    params = changed_params(table_rows)
    tasks = tasks_of(table_rows)
    heads_by_row = []
    metric_cols: dict[str, list[str]] = {}
    for row in table_rows:
        heads = {}
        for file, data in row.metrics.items():
            m = TRAIN_METRICS.search(file)
            if m:
                heads[m["task"]] = headline(data)
                cols = metric_cols.setdefault(m["task"], [])
                cols += [k for k in heads[m["task"]] if k not in cols]
        heads_by_row.append(heads)
    header = ["experiment"] + params + [f"{task} {col}" for task in tasks for col in metric_cols.get(task, [])]
    cells = []
    for row, heads in zip(table_rows, heads_by_row, strict=True):
        if row.error:
            cells.append([row.label] + [f"failed: {row.error}"[:60]] + [""] * (len(header) - 2))
            continue
        line = [row.label] + [_cell(row.params.get(k)) for k in params]
        for task in tasks:
            line += [_cell(heads.get(task, {}).get(col)) for col in metric_cols.get(task, [])]
        cells.append(line)
    return header, cells


def format_table(header: list[str], cells: list[list[str]]) -> str:
    """A plain, aligned text table (text left, numbers right)."""
    widths = [max([len(h)] + [len(c[i]) for c in cells if i < len(c)]) for i, h in enumerate(header)]

    def numeric(text: str) -> bool:
        return bool(re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", text))

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if numeric(v) else v.ljust(w) for v, w in zip(values, widths, strict=False)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(c) for c in cells]
    return "\n".join(out)


def render(show: list[dict]) -> str:
    """The comparison table of `dvc exp show --json`'s output, with a note when nothing differs."""
    header, cells = table(show)
    text = format_table(header, cells)
    if not any(r.kind == "experiment" for r in rows(show)):
        text += "\n(no experiments yet: `uv run dvc exp run -S train.lightgbm.num_leaves=31`)"
    return text
