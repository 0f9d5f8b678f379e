"""Stage `snapshot@<period>`: what the period's report shows, at the period's end, into
data/snapshots/<period>/ (see powerlens.snapshots)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens.config import load_config, write_json
from powerlens.jobs.common import Clock, entry, one_line
from powerlens.paths import DataPaths, ProjectPaths
from powerlens.rules import period_bounds


def run(periods: list[str], cfg: Any, *, data: DataPaths, playbook: Path | None,
        echo: Callable[[str], Any] = print, isolate: bool = False) -> dict[str, dict]:
    """Write the snapshot of every period; periods of one run share features and walk-forward
    models. Returns per period what was written. With `isolate`, a period that fails gets
    {"error": one line} and the others go on (a backfill); else the failure stops the run."""
    from powerlens import strategy
    from powerlens.snapshots.build import build_snapshot
    from powerlens.snapshots.state import PointInTime
    from powerlens.snapshots.store import write_snapshot

    clock = Clock("snapshot", echo)
    for period in periods:
        period_bounds(period)
    book = strategy.load_playbook(playbook) if playbook is not None and Path(playbook).exists() else None
    if book is None:
        clock(f"no playbook at {playbook}: no strategies, actions or review")
    pit = PointInTime(data, cfg, echo=clock)
    cutoffs = []
    for period in periods:
        cutoff, _ = pit.cutoff_of(period_bounds(period)[1], period)
        cutoffs += [cutoff, cutoff - pd.DateOffset(months=1)]
    try:  # every period's features in one pass of the engine
        pit.prefetch_features(cutoffs)
    except FileNotFoundError:
        pass  # each snapshot says what is missing
    result = {}
    for period in periods:
        try:
            tables, manifest = build_snapshot(period, pit, book, cfg.report.top_n, cfg.report.min_group_size,
                                              echo=clock)
        except Exception as exc:  # noqa: BLE001 - isolated: one period's failure must not stop the others
            if not isolate:
                raise
            result[period] = {"error": f"{type(exc).__name__}: {one_line(exc)}"}
            clock(f"{period}: FAILED {result[period]['error']}")
            continue
        folder = write_snapshot(data.snapshot_dir(period), tables, manifest)
        for line in manifest["notes"]:
            clock(f"{period}: {line}")
        result[period] = {"folder": str(folder), "cutoff": manifest["cutoff"],
                          "customers": 0 if tables["segments"] is None else int(len(tables["segments"])),
                          "planned_actions": 0 if tables["plan"] is None else int(len(tables["plan"])),
                          "seconds": round(clock.elapsed, 1)}
        clock(f"{period}: wrote {folder}")
    return result


def main() -> None:
    if len(sys.argv) != 2:
        from powerlens.errors import UsageError

        raise UsageError("usage: python pipelines/snapshot.py YYYY-MM")
    period = sys.argv[1]
    cfg, paths = load_config(), ProjectPaths()
    result = run([period], cfg, data=paths.data_paths, playbook=paths.playbook)
    write_json(paths.metrics_file(f"snapshot_{period}"), result[period])


if __name__ == "__main__":
    entry(main)
