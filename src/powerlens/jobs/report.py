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
from powerlens.paths import ProjectPaths


def ensure_snapshots(periods: list[str], cfg: Any, paths: ProjectPaths, *, echo: Callable[[str], Any] = print,
                     isolate: bool = False) -> dict[str, str]:
    """Compute the snapshots of the periods that lack one (in one run: they share features and
    walk-forward models). With `isolate`, a period that fails is returned (period -> error)
    instead of stopping the others."""
    from powerlens.jobs import snapshot
    from powerlens.snapshots import snapshot_exists

    missing = [p for p in periods if not snapshot_exists(paths.snapshot_dir(p))]
    if not missing:
        return {}
    echo(f"computing the snapshot of {', '.join(missing)} first")
    result = snapshot.run(missing, cfg, data=paths.data_paths, playbook=paths.playbook, echo=echo, isolate=isolate)
    return {p: r["error"] for p, r in result.items() if "error" in r}


def run(period: str, cfg: Any, paths: ProjectPaths, *, region: str | None = None,
        echo: Callable[[str], Any] = print) -> dict:
    """Render one period (its snapshot computed first when missing)."""
    from powerlens.report.rendering import render

    clock = Clock("report", echo)
    ensure_snapshots([period], cfg, paths, echo=clock)
    html = render(period, paths.snapshot_dir(period), paths.reports, paths.report_notebook, region=region,
                  top_n=cfg.report.top_n, min_group_size=cfg.report.min_group_size)
    clock(f"wrote {html}")
    return {"period": period, "region": region, "seconds": round(clock.elapsed, 1)}


def run_range(periods: list[str], cfg: Any, paths: ProjectPaths, *, region: str | None = None, workers: int = 2,
              echo: Callable[[str], Any] = print):
    """Render every period: missing snapshots first (a failing one only fails its period),
    then the renders in parallel; returns report.backfill.BackfillResult."""
    from powerlens.report.backfill import backfill

    failed = ensure_snapshots(periods, cfg, paths, echo=echo, isolate=True)
    return backfill(periods, paths.snapshots, paths.reports, paths.report_notebook, region=region,
                    top_n=cfg.report.top_n, min_group_size=cfg.report.min_group_size, workers=workers,
                    progress=echo, failed_snapshots=failed)


def main() -> None:
    if len(sys.argv) != 2:
        from powerlens.errors import UsageError

        raise UsageError("usage: python pipelines/report.py YYYY-MM")
    period, paths = sys.argv[1], ProjectPaths()
    result = run(period, load_config(), paths)
    write_json(paths.metrics_file(f"report_{period}"), result)


if __name__ == "__main__":
    entry(main)
