"""Stage `snapshot@<period>`: what the period's report shows, at the period's end, into
data/snapshots/<period>/ (see powerlens.snapshots)."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from powerlens.config import load_config, write_json
from powerlens.errors import MissingInput, PowerlensError, UsageError, one_line
from powerlens.jobs.common import Clock, entry
from powerlens.paths import DataPaths, ProjectPaths
from powerlens.rules import period_bounds, previous_cutoff


def check_inputs(data: DataPaths) -> None:
    """A snapshot needs the clean tables and the features stage's cut-offs; say which is missing."""
    if not (data.clean / "customers.parquet").exists():
        raise MissingInput(f"no clean tables in {data.clean}: import or validate a source first "
                           "(powerlens validate / powerlens import)")
    if not data.features_manifest.exists():
        raise MissingInput(f"no {data.features_manifest}: run the features stage first (powerlens features)")


def _failure(exc: BaseException) -> dict[str, str]:
    """How a period's failure is recorded: one line for our errors, the traceback for a bug."""
    if isinstance(exc, PowerlensError):
        return {"error": one_line(exc)}
    return {"error": f"{type(exc).__name__}: {one_line(exc)}", "traceback": traceback.format_exc()}


def run(periods: list[str], cfg: Any, *, data: DataPaths, playbook: Path | None,
        echo: Callable[[str], Any] = print, isolate: bool = False) -> dict[str, dict]:
    """Write the snapshot of every period; periods of one run share features and walk-forward
    models. Returns per period what was written. With `isolate`, a period that fails gets
    {"error": ..., ["traceback": ...]} and the others go on (a backfill); else it stops the run."""
    from powerlens import strategy
    from powerlens.snapshots.build import build_snapshot
    from powerlens.snapshots.state import PointInTime, inputs_fingerprint
    from powerlens.snapshots.store import write_snapshot

    clock = Clock("snapshot", echo)
    for period in periods:
        period_bounds(period)
    check_inputs(data)
    book = strategy.load_playbook(playbook) if playbook is not None and Path(playbook).exists() else None
    if book is None:
        clock(f"no playbook at {playbook}: no strategies, actions or review")
    pit = PointInTime(data, cfg, echo=clock)
    fingerprint = inputs_fingerprint(data, playbook, cfg)
    cutoffs = [pit.cutoff_of(period_bounds(p)[1], p)[0] for p in periods]
    try:  # every period's features in one pass of the engine
        pit.prefetch_features([t for c in cutoffs for t in (c, previous_cutoff(c))])
    except Exception:  # noqa: BLE001 - each period builds its own again and says what failed
        if not isolate:
            raise
    result = {}
    for period in periods:
        try:
            tables, manifest = build_snapshot(period, pit, book, cfg.report.top_n, cfg.report.min_group_size,
                                              echo=clock)
        except Exception as exc:
            if not isolate:
                raise
            result[period] = _failure(exc)
            clock(f"{period}: FAILED {result[period]['error']}")
            continue
        folder = write_snapshot(data.snapshot_dir(period), tables, manifest | {"inputs": fingerprint})
        for line in manifest["notes"]:
            clock(f"{period}: {line}")
        result[period] = {"cutoff": manifest["cutoff"],
                          "customers": 0 if tables["segments"] is None else int(len(tables["segments"])),
                          "planned_actions": 0 if tables["plan"] is None else int(len(tables["plan"])),
                          "seconds": round(clock.elapsed, 1)}
        clock(f"{period}: wrote {folder}")
    return result


def stale_periods(periods: list[str], cfg: Any, *, data: DataPaths, playbook: Path | None) -> list[str]:
    """The periods whose snapshot is missing or was computed from other inputs than today's."""
    from powerlens.snapshots.state import inputs_fingerprint
    from powerlens.snapshots.store import read_manifest

    fingerprint = inputs_fingerprint(data, playbook, cfg)
    return [p for p in periods if (read_manifest(data.snapshot_dir(p)) or {}).get("inputs") != fingerprint]


def main() -> None:
    if len(sys.argv) != 2:
        raise UsageError("usage: python pipelines/snapshot.py YYYY-MM")
    period = sys.argv[1]
    cfg, paths = load_config(), ProjectPaths()
    result = run([period], cfg, data=paths.data_paths, playbook=paths.playbook)
    write_json(paths.metrics_file(f"snapshot_{period}"), result[period])


if __name__ == "__main__":
    entry(main)
