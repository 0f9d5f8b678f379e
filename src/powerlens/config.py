"""Typed access to params.yaml: the one place where tunables are read."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml


def project_root() -> Path:
    """The project root: `POWERLENS_ROOT`, else the nearest parent holding params.yaml."""
    env = os.environ.get("POWERLENS_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "params.yaml").exists():
            return candidate
    return here


def load_params(path: str | Path | None = None) -> dict[str, Any]:
    """Read params.yaml (default: at the project root) into a nested dict."""
    path = Path(path) if path else project_root() / "params.yaml"
    if not path.exists():
        raise FileNotFoundError(f"params file not found: {path}")
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys for logging (`train.lightgbm.num_leaves`), as DVC names them."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def write_json(path: str | Path, data: dict) -> None:
    """Small JSON files (metrics, manifests), stable key order so reruns diff cleanly."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n")
