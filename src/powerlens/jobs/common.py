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


def features_manifest(features_dir, data=None) -> dict:
    """The features stage's manifest.json (cut-offs, feature names); MissingInput when absent.

    With `data` (a clean folder), the features must have been built from that folder: features
    of another import are refused (InvalidInput naming both folders and the command that builds
    the right features) instead of training or scoring on the wrong customers."""
    import json
    from pathlib import Path

    from powerlens.errors import InvalidInput, MissingInput

    path = Path(features_dir) / "manifest.json"
    if not path.exists():
        raise MissingInput(f"{path} not found: run the features stage first (powerlens features)")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if data is not None:
        built_from = manifest.get("data_fingerprint")
        if built_from is None:
            raise InvalidInput(f"the features in {features_dir} were built by an older powerlens that did not "
                               f"record their data folder: rebuild them with `powerlens features --data {data} "
                               f"--out {features_dir}` (or `dvc repro`)")
        if built_from != data_fingerprint(data):
            raise InvalidInput(
                f"the features in {features_dir} were not built from the data in {data} "
                + (f"(they come from {manifest['data_folder']}); " if manifest.get("data_folder") else "; ")
                + f"build them with `powerlens features --data {data} --out FOLDER` and pass --features FOLDER")
    return manifest


def data_fingerprint(data) -> str:
    """Identifies an imported data folder: its validation.json and, for every canonical table,
    the file's size and the bytes at its start and end (a parquet file ends with its schema,
    row counts and column statistics). Cheap at any size; another import, or the same import
    with rows added, removed or changed in count or range, gives another fingerprint."""
    import hashlib
    from pathlib import Path

    data = Path(data)
    digest = hashlib.sha256()
    files = sorted(data.glob("*.parquet")) + [data / "validation.json"]
    for path in files:
        if not path.is_file():
            continue
        size = path.stat().st_size
        digest.update(f"{path.name}\0{size}\0".encode())
        with path.open("rb") as fh:
            digest.update(fh.read(1 << 16))
            if size > 1 << 17:
                fh.seek(size - (1 << 16))
                digest.update(fh.read())
    return digest.hexdigest()[:20]


def skip_stage(out, reason: str, echo: Callable[[str], Any] = print) -> dict:
    """A stage the data cannot feed (e.g. no system load in a PowerCo import): an empty output
    folder with a README saying why, so that `dvc repro` goes on and the report leaves the section
    out; returns the stage's metrics."""
    from powerlens.atomic import atomic_dir, write_text

    with atomic_dir(out) as tmp:
        write_text(tmp / "SKIPPED.txt", f"Skipped: {reason}.\n")
    echo(f"skipped: {reason}")
    return {"skipped": reason}
