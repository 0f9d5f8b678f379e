"""A fitted forecaster as plain files (no pickle): `meta.json`, `arrays.npz` (the reconciliation,
the calibration errors, the regression coefficients) and, for the global model, LightGBM's own
text format. The registry logs this folder as the model's artifact (powerlens.tracking)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from powerlens.forecast import models as M
from powerlens.forecast.hourly import FittedHourly, HourlySettings
from powerlens.forecast.monthly import MonthlySettings

FORMAT = 1


def _settings_dict(settings) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(settings).items()}


def save_hourly(fitted: FittedHourly, settings: HourlySettings, folder: Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = fitted.model
    meta = {"format": FORMAT, "kind": "hourly", "family": model.family, "horizon_hours": fitted.horizon_hours,
            "names": fitted.names, "reconciliation": fitted.reconciliation, "settings": _settings_dict(settings)}
    arrays = {"projection": fitted.projection, "errors": fitted.errors, "relative_errors": fitted.relative_errors}
    regression = model if isinstance(model, M.Vanilla) else getattr(model, "regression", None)
    if regression is not None:
        meta["regression"] = {"names": list(regression.coef), "trend_zero": str(regression.trend_zero),
                              "with_trend": regression.with_trend, "history_years": regression.history_years}
        arrays |= {f"coef_{i}": c for i, c in enumerate(regression.coef.values())}
    if isinstance(model, M.GlobalBoosting):
        meta |= {"lag": model.lag, "holidays": sorted(f"{d:%Y-%m-%d}" for d in model.holidays),
                 "boosting_names": model.names}
        (folder / "booster.txt").write_text(model.booster.booster_.model_to_string(), encoding="utf-8")
    if isinstance(model, M.SeasonalNaive):
        meta["lag"] = model.lag
    np.savez(folder / "arrays.npz", **arrays)
    (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return folder


def save_monthly(settings: MonthlySettings, folder: Path) -> Path:
    """The monthly forecaster is refitted at every origin: its settings are the model."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps({"format": FORMAT, "kind": "monthly", "family": "regression_scenarios",
                                                  "settings": _settings_dict(settings)}, indent=1), encoding="utf-8")
    return folder


class _Booster:
    """LightGBM's Booster with the scikit-learn model's predict (what GlobalBoosting calls)."""

    def __init__(self, text: str):
        import lightgbm as lgb

        self.booster_ = lgb.Booster(model_str=text)

    def predict(self, X):
        return self.booster_.predict(X)


def _tuples(d: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def load(folder: Path):
    """(kind, FittedHourly or None, settings) from a folder `save_*` wrote."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{folder}: forecaster format {meta.get('format')!r}, this powerlens reads {FORMAT}")
    if meta["kind"] == "monthly":
        return "monthly", None, MonthlySettings(**_tuples(meta["settings"]))
    settings = HourlySettings(**_tuples(meta["settings"]))
    arrays = np.load(folder / "arrays.npz")
    regression = None
    if "regression" in meta:
        r = meta["regression"]
        regression = M.Vanilla(history_years=r["history_years"], with_trend=r["with_trend"],
                               coef={n: arrays[f"coef_{i}"] for i, n in enumerate(r["names"])},
                               trend_zero=pd.Timestamp(r["trend_zero"]))
    family = meta["family"]
    if family == "lightgbm_global":
        model = M.GlobalBoosting(lag=meta["lag"], booster=_Booster((folder / "booster.txt").read_text(encoding="utf-8")),
                                 names=meta["boosting_names"], regression=regression,
                                 holidays=frozenset(pd.Timestamp(d) for d in meta["holidays"]))
    elif family == "vanilla":
        model = regression
    else:
        model = M.SeasonalNaive(lag=meta["lag"])
    fitted = FittedHourly(model=model, horizon_hours=meta["horizon_hours"], projection=arrays["projection"],
                          errors=arrays["errors"], relative_errors=arrays["relative_errors"], names=meta["names"],
                          reconciliation=meta["reconciliation"])
    return "hourly", fitted, settings
