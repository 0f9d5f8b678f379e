"""DVC stage `validate`: anonymize, validate and quarantine the raw export into canonical tables."""

from pathlib import Path

from powerlens import stages

if __name__ == "__main__":
    p = stages.params()["validate"]
    stages.validate(Path("data/raw"), Path("data/clean"), None, p["max_reject_fraction"],
                    truth_out=Path("data/truth/ground_truth.parquet"), metrics=Path("metrics/validate.json"))
