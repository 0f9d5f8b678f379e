"""DVC stage `generate`: the raw export of the embedded synthetic utility."""

from pathlib import Path

from powerlens import stages

if __name__ == "__main__":
    p = stages.params()["generate"]
    stages.generate(Path("data/raw"), p["customers"], p["months"], p["seed"], p["end"],
                    p["interval_metered_residential_share"], metrics=Path("metrics/generate.json"))
