"""What every job shares: progress lines with elapsed time, and the entry wrapper that sets
process-wide state and turns the project's own errors into one line."""

from __future__ import annotations

import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from powerlens.errors import PowerlensError, one_line

BUG_HINT = ("this is a bug in powerlens, not in your data or options: please report it with the "
            "traceback above")


class Clock:
    """Prints each step of a stage with the elapsed time (long work shows progress)."""

    def __init__(self, stage: str, echo: Callable[[str], Any] = print):
        self.stage, self.echo, self.start = stage, echo, time.perf_counter()

    def __call__(self, message: str) -> None:
        self.echo(f"[{self.stage} {self.elapsed:6.1f}s] {message}")

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def configure_process() -> None:
    """Process-wide settings for a job or command (never done at import): a non-interactive
    matplotlib backend, MLflow without telemetry or progress bars, and quiet library warnings."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")  # mlflow resets its logger to this at import
    import matplotlib

    matplotlib.use("Agg")
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    warnings.filterwarnings("ignore", module=r"mlflow(\..*)?")
    warnings.filterwarnings("ignore", category=UserWarning, message=".*(dataset source|integer column).*")
    import logging

    logging.getLogger("mlflow").setLevel(logging.ERROR)


def entry(main: Callable[[], Any]) -> None:
    """Run a stage's main(): the project's own errors end as one line on stderr with exit
    code 2; anything else is a bug and shows its traceback with a hint to report it."""
    configure_process()
    try:
        main()
    except PowerlensError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        sys.exit(2)
    except Exception:
        traceback.print_exc()
        print(BUG_HINT, file=sys.stderr)
        sys.exit(1)


def features_manifest(features_dir) -> dict:
    """The features stage's manifest.json (cut-offs, feature names); MissingInput when absent."""
    import json
    from pathlib import Path

    from powerlens.errors import MissingInput

    path = Path(features_dir) / "manifest.json"
    if not path.exists():
        raise MissingInput(f"{path} not found: run the features stage first (powerlens features)")
    return json.loads(path.read_text(encoding="utf-8"))
