"""DVC stage `segment`: value x credit tiers, big / latent big customers, load shapes."""

import sys
from pathlib import Path

from powerlens import stages
from powerlens.segmentation import WeightsError

if __name__ == "__main__":
    try:
        stages.segment(Path("data/features"), Path("data/segments"), stages.params()["segment"],
                       metrics=Path("metrics/segment.json"), data=Path("data/clean"))
    except WeightsError as exc:  # a params.yaml problem: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
