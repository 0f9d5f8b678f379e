"""DVC stage `segment`: value x credit tiers, big / latent big customers, load shapes."""

from pathlib import Path

from powerlens import stages

if __name__ == "__main__":
    stages.segment(Path("data/features"), Path("data/segments"), stages.params()["segment"],
                   metrics=Path("metrics/segment.json"))
