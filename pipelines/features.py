"""DVC stage `features`: customer features at each cut-off, point-in-time correct."""

from pathlib import Path

from powerlens import stages

if __name__ == "__main__":
    stages.features(Path("data/clean"), Path("data/features"), stages.params()["features"],
                    metrics=Path("metrics/features.json"))
