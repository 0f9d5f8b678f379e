"""Stage `report@<period>`: render the strategy report of a period from its snapshot into
reports/<period>/ (HTML without code, the executed notebook, actions.csv) in the language of
params.yaml (`report.language`) and refresh the landing page (reports/index.html).

Outside DVC (`powerlens report`), a period whose snapshot does not exist yet gets it first;
`--language` picks another language, `--pdf` prints the page to A4 too, and `--from/--to`
renders a range in parallel with failures isolated (report.backfill). The console shows one
line per step (snapshot, execute, convert, pdf) and the result."""

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


def report_language(cfg: Any, language: str | None = None) -> str:
    """The language to render in: the one asked for, else params.yaml's report.language."""
    from powerlens.report.rendering import DEFAULT_LANGUAGE, report_stem

    chosen = language or getattr(cfg.report, "language", None) or DEFAULT_LANGUAGE
    report_stem(chosen)  # an unknown language fails here, before any snapshot work
    return chosen


def notebook_parameters(cfg: Any) -> dict[str, Any]:
    """Notebook parameters from params.yaml beyond the period's own (the currency money is shown in)."""
    currency = getattr(cfg.report, "currency", None)
    return {"currency": currency} if currency else {}


def run(period: str, cfg: Any, paths: ProjectPaths, *, region: str | None = None, refresh: bool = True,
        echo: Callable[[str], Any] = print, language: str | None = None, pdf: bool = False) -> dict:
    """Render one period in a language (default params.yaml's), and its PDF with `pdf`; with
    `refresh` (the CLI) its snapshot is computed first when missing or out of date. The DVC stage
    does not refresh: DVC keeps the snapshot stage's output current, and this stage must not
    write another stage's output."""
    from powerlens.report.rendering import render

    period_bounds(period)
    language = report_language(cfg, language)
    clock = Clock("report", echo)
    if refresh:
        clock(f"snapshot of {period}: checking it is current")
        ensure_snapshots([period], cfg, paths, echo=clock)
    html = render(period, paths.snapshot_dir(period), paths.reports, paths.report_notebook, region=region,
                  language=language, pdf=pdf, progress=clock, parameters=notebook_parameters(cfg))
    shown = project_relative(html, paths.root)
    result = {"period": period, "region": region, "language": language, "html": shown}
    if pdf:
        result["pdf"] = project_relative(html.with_suffix(".pdf"), paths.root)
    clock(f"wrote {shown}" + (f" and {result['pdf']}" if pdf else ""))
    return {**result, "seconds": round(clock.elapsed, 1)}


def run_range(periods: list[str], cfg: Any, paths: ProjectPaths, *, region: str | None = None, workers: int = 2,
              echo: Callable[[str], Any] = print, language: str | None = None, pdf: bool = False):
    """Render every period: missing snapshots first (a failing one only fails its period),
    then the renders in parallel; returns report.backfill.BackfillResult."""
    from powerlens.report.backfill import backfill

    language = report_language(cfg, language)
    failed = ensure_snapshots(periods, cfg, paths, echo=echo, isolate=True)
    return backfill(periods, paths.snapshots, paths.reports, paths.report_notebook, region=region,
                    workers=workers, progress=echo, failed_snapshots=failed, language=language, pdf=pdf,
                    parameters=notebook_parameters(cfg))


def main() -> None:
    if len(sys.argv) != 2:
        from powerlens.errors import UsageError

        raise UsageError("usage: python pipelines/report.py YYYY-MM")
    period, paths = sys.argv[1], ProjectPaths()
    result = run(period, load_config(), paths, refresh=False)
    write_json(paths.metrics_file(f"report_{period}"), result)


if __name__ == "__main__":
    entry(main)
