"""DVC stage `score`: each task's champion scores the accounts open at the scoring cut-off."""

from pathlib import Path

from powerlens import stages

if __name__ == "__main__":
    stages.score(Path("data/features"), Path("data/scores"), stages.params()["train"]["tasks"],
                 metrics=Path("metrics/score.json"))
