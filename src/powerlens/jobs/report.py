"""Stage `report@<period>`: render the strategy report of a period from its snapshot into
reports/<period>/ (HTML without code, the executed notebook, actions.csv) and refresh the index.

Outside DVC (`powerlens report`), a period whose snapshot does not exist yet gets it first;
`--from/--to` renders a range in parallel with failures isolated (report.backfill)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from powerlens.config import load_config, write_json
from powerlens.jobs.common import Clock, entry
from powerlens.paths import ProjectPaths, project_relative
from powerlens.rules import period_bounds


def ensure_snapshots(periods: list[str], cfg: Any, paths: ProjectPaths, *, echo: Callable[[str], Any] = print,
                     isolate: bool = False) -> dict[str, dict]:
    """Compute the snapshots of the periods that lack one or whose inputs changed since (in one
    run: they share features and walk-forward models). With `isolate`, a period that fails is
    returned (period -> its failure) instead of stopping the others."""
    from powerlens.jobs import snapshot
    from powerlens.snapshots.store import snapshots_lock

    with snapshots_lock(paths.data_paths.snapshots):  # a concurrent render of the period waits here
        stale = snapshot.stale_periods(periods, cfg, data=paths.data_paths, playbook=paths.playbook)
        if not stale:
            return {}
        echo(f"computing the snapshot of {', '.join(stale)} first (missing, incomplete, or made from other inputs)")
        result = snapshot.run(stale, cfg, data=paths.data_paths, playbook=paths.playbook, echo=echo,
                              isolate=isolate)
    return {p: r for p, r in result.items() if "error" in r}


def run(period: str, cfg: Any, paths: ProjectPaths, *, region: str | None = None, refresh: bool = True,
        echo: Callable[[str], Any] = print) -> dict:
    """Render one period; with `refresh` (the CLI) its snapshot is computed first when missing or
    out of date. The DVC stage does not refresh: DVC keeps the snapshot stage's output current,
    and this stage must not write another stage's output."""
    from powerlens.report.rendering import render

    period_bounds(period)
    clock = Clock("report", echo)
    if refresh:
        ensure_snapshots([period], cfg, paths, echo=clock)
    html = render(period, paths.snapshot_dir(period), paths.reports, paths.report_notebook, region=region)
    shown = project_relative(html, paths.root)
    clock(f"wrote {shown}")
    return {"period": period, "region": region, "html": shown, "seconds": round(clock.elapsed, 1)}


def run_range(periods: list[str], cfg: Any, paths: ProjectPaths, *, region: str | None = None, workers: int = 2,
              echo: Callable[[str], Any] = print):
    """Render every period: missing snapshots first (a failing one only fails its period),
    then the renders in parallel; returns report.backfill.BackfillResult."""
    from powerlens.report.backfill import backfill

    failed = ensure_snapshots(periods, cfg, paths, echo=echo, isolate=True)
    return backfill(periods, paths.snapshots, paths.reports, paths.report_notebook, region=region,
                    workers=workers, progress=echo, failed_snapshots=failed)


def main() -> None:
    if len(sys.argv) != 2:
        from powerlens.errors import UsageError

        raise UsageError("usage: python pipelines/report.py YYYY-MM")
    period, paths = sys.argv[1], ProjectPaths()
    result = run(period, load_config(), paths, refresh=False)
    write_json(paths.metrics_file(f"report_{period}"), result)


if __name__ == "__main__":
    entry(main)
