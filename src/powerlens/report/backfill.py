"""Backfill: render every period of a range (in one language, with PDFs on request), the
snapshots it lacks computed first, the renders in parallel worker processes; a failing period
does not stop the others."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from powerlens.report.rendering import (
    DEFAULT_LANGUAGE,
    ReportFailed,
    ReportNotebookBug,
    render,
    write_index,
)
from powerlens.rules import periods_between


@dataclass
class PeriodOutcome:
    """How one period of a backfill went."""

    period: str
    ok: bool
    html: Path | None = None              # the report, when ok
    failed_notebook: Path | None = None   # the kept executed notebook, when the notebook failed
    error: str | None = None              # one line, when not ok
    seconds: float = 0.0
    traceback: str | None = None          # when the failure was a bug, not one of our errors


@dataclass
class BackfillResult:
    """Every period of a backfill, in period order, and the index written at the end."""

    outcomes: list[PeriodOutcome]
    index: Path
    region: str | None = None
    seconds: float = 0.0
    language: str = DEFAULT_LANGUAGE
    rendered: list[str] = field(init=False)
    failed: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.rendered = [o.period for o in self.outcomes if o.ok]
        self.failed = [o.period for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        """Lines for people: counts, then one line per failed period with its error and the
        kept notebook."""
        where = (f" for region {self.region}" if self.region else "") + f" ({self.language})"
        lines = [f"{len(self.rendered)} of {len(self.outcomes)} period(s) rendered{where} in "
                 f"{self.seconds:.0f} s; {len(self.failed)} failed"
                 + (f": {', '.join(self.failed)}" if self.failed else "")]
        for o in self.outcomes:
            if not o.ok:
                kept = f" (notebook kept at {o.failed_notebook})" if o.failed_notebook else ""
                lines.append(f"  FAILED {o.period}: {o.error}{kept}")
                if o.traceback:  # a bug: its traceback, to report it
                    lines += ["    " + line for line in o.traceback.rstrip().splitlines()]
        lines.append(f"index: {self.index}")
        return "\n".join(lines)


def _render_one(period: str, kwargs: dict[str, Any]) -> PeriodOutcome:
    """Render one period, turning a failure into an outcome (runs in a worker process)."""
    from powerlens.errors import one_line
    from powerlens.jobs.common import configure_process

    configure_process()
    start = time.perf_counter()
    snapshots = kwargs.pop("snapshots")
    try:
        html_path = render(period, Path(snapshots) / period, update_index=False, **kwargs)
    except (ReportFailed, ReportNotebookBug) as exc:
        error = str(exc).split(" (executed notebook kept at")[0]
        return PeriodOutcome(period, False, failed_notebook=exc.notebook, error=error,
                             seconds=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - one period's failure must not stop the others
        import traceback

        return PeriodOutcome(period, False, error=f"{type(exc).__name__}: {one_line(exc)}",
                             seconds=time.perf_counter() - start, traceback=traceback.format_exc())
    return PeriodOutcome(period, True, html=html_path, seconds=time.perf_counter() - start)


def backfill(periods: list[str], snapshots: Path, out_root: Path, notebook: Path, region: str | None = None,
             workers: int = 2, progress: Callable[[str], None] | None = None,
             failed_snapshots: dict[str, dict] | None = None, language: str = DEFAULT_LANGUAGE,
             pdf: bool = False, parameters: dict[str, Any] | None = None) -> BackfillResult:
    """Render every period (snapshots already made) with up to `workers` in parallel, in
    `language`, each with its PDF when `pdf` (`parameters`: further notebook parameters).

    Each period runs as `render` in its own worker process (its own kernel); a failing period
    is recorded (error, kept strategy_report.failed.ipynb) and the others go on; a period whose
    snapshot could not be computed (`failed_snapshots`: period -> {error, traceback}) is recorded as failed
    without rendering. The index is written once, at the end. Never raises for a failing
    period: check `result.ok`.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    kwargs = {"snapshots": Path(snapshots).resolve(), "out_root": Path(out_root).resolve(),
              "notebook": Path(notebook).resolve(), "region": region, "language": language, "pdf": pdf,
              "parameters": parameters}
    say = progress or (lambda _msg: None)
    clock = time.perf_counter()
    outcomes: dict[str, PeriodOutcome] = {}

    def done(outcome: PeriodOutcome) -> None:
        outcomes[outcome.period] = outcome
        state = "ok" if outcome.ok else f"FAILED: {outcome.error}"
        say(f"{outcome.period} {state} ({outcome.seconds:.1f} s)")

    for period, failure in (failed_snapshots or {}).items():
        done(PeriodOutcome(period, False, error=f"no snapshot: {failure['error']}",
                           traceback=failure.get("traceback")))
    todo = [p for p in periods if p not in outcomes]
    workers = max(1, min(int(workers), len(todo)))
    if workers == 1:
        for period in todo:
            done(_render_one(period, dict(kwargs)))
    else:
        # spawn: a fresh interpreter per worker, safe whatever threads the caller runs
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_render_one, period, dict(kwargs)): period for period in todo}
            for future in as_completed(futures):
                try:
                    done(future.result())
                except Exception as exc:  # noqa: BLE001 - a worker died (e.g. out of memory)
                    done(PeriodOutcome(futures[future], False, error=f"worker failed: {type(exc).__name__}: {exc}"))
    index = write_index(kwargs["out_root"])
    return BackfillResult([outcomes[p] for p in periods], index, region=region,
                          seconds=time.perf_counter() - clock, language=language)


__all__ = ["BackfillResult", "PeriodOutcome", "backfill", "periods_between"]
