"""Do PowerCo's price columns raise churn ROC-AUC over the other features? (issue 16)

    uv run python scripts/powerco_price_columns.py [POWERCO_FOLDER] [WORK_DIR]

Imports PowerCo's client_data (default: $POWERLENS_REAL_DATA/powerco, else
../shared/data/real/powerco), builds the features once, and trains churn twice through the train
job (5-fold cross-validation, the families of params.yaml, no search): with every feature, then
without the forecast price columns (energy price off-peak and peak, power price off-peak; the
time-of-use flag the importer derives from the peak price is already excluded for PowerCo churn,
train.by_source.powerco). Prints each family's ROC-AUC both
ways and the difference. A throwaway MLflow store lives in WORK_DIR; the pseudonym key outside it ($POWERLENS_KEY_FILE
or ~/.powerlens_powerco_prices.key).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PRICE_COLUMNS = ["attr_forecast_price_energy_off_peak", "attr_forecast_price_energy_peak",
                 "attr_forecast_price_pow_off_peak"]


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    real = Path(os.environ.get("POWERLENS_REAL_DATA", root.parent / "shared" / "data" / "real"))
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else real / "powerco"
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/powerco_prices")
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{work / 'mlflow.db'}")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from powerlens.config import load_config
    from powerlens.jobs import features as features_job
    from powerlens.jobs import train as train_job
    from powerlens.jobs import validate as validate_job

    cfg = load_config(root / "params.yaml")
    cfg = cfg.replace("train", search=cfg.train.search.replace(enabled=False))
    clean, feats = work / "clean", work / "features"
    key = Path(os.environ.get("POWERLENS_KEY_FILE", Path.home() / ".powerlens_powerco_prices.key"))
    validate_job.run(src, out=clean, fmt="powerco", key_file=str(key))  # the key outside the data folder
    features_job.run(cfg.features, data=clean, out=feats)
    results = {}
    for name, excluded in (("all features", []), ("without prices", PRICE_COLUMNS)):
        # PowerCo's own settings (train.by_source.powerco) name its churn exclusions: add to them
        by_source = {k: dict(v) for k, v in cfg.train.as_dict()["by_source"].items()}
        powerco = by_source.setdefault("powerco", {})
        excl = dict(powerco.get("exclude_features_by_task") or {})
        excl["churn"] = [*excl.get("churn", []), *excluded]
        powerco["exclude_features_by_task"] = excl
        run_cfg = cfg.replace("train", by_source=by_source)
        summary = train_job.run("churn", run_cfg, data=clean, features_dir=feats, out=work / name.replace(" ", "_"),
                                experiment="powerco-prices", plots=work / "plots" / name.replace(" ", "_"))
        results[name] = {f: m["roc_auc"] for f, m in summary["families"].items()}
        print(f"{name}: {summary['n_features']} feature columns")
    print("| family | ROC-AUC, all features | without the price columns | difference |")
    print("|---|---|---|---|")
    for family, auc in results["all features"].items():
        other = results["without prices"].get(family)
        print(f"| {family} | {auc:.4f} | {other:.4f} | {auc - other:+.4f} |")


if __name__ == "__main__":
    main()
