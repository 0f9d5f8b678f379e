"""DVC stage `train@<task>`: compare model families for one task, log to MLflow, apply the
champion rule."""

import sys
from pathlib import Path

from powerlens import stages

if __name__ == "__main__":
    task = sys.argv[1]
    p = stages.params()
    stages.train(task, Path("data/clean"), Path("data/features"), Path(f"data/models/{task}"), p["train"],
                 p["features"]["horizon_months"], metrics=Path(f"metrics/train_{task}.json"),
                 plots=Path(f"plots/train/{task}"))
