"""Stage `validate`: import the source named by `data.source` (the synthetic utility's raw
export by default) into anonymized, validated canonical tables, bad rows quarantined with
their reason and counts reconciled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from powerlens.config import load_config, write_json
from powerlens.jobs.common import Clock, entry
from powerlens.paths import ProjectPaths


def run(src: Path, *, out: Path, fmt: str = "synthetic", key_file: str | None = None,
        max_reject_fraction: float = 0.05, mapping: Path | None = None, truth_out: Path | None = None,
        echo: Callable[[str], Any] = print, plausibility=None, customers_per_partition: int | None = None,
        engine: str = "local", scheduler: str | None = None) -> dict:
    """Drop direct identifiers, pseudonymize ids, quarantine bad rows (impossible values included:
    `plausibility` is params.yaml's validate.plausibility, None for its defaults); the import
    summary."""
    from powerlens.anonymize import load_or_create_key
    from powerlens.importers import import_source
    from powerlens.importers.utility_export import import_utility_export

    clock = Clock("validate", echo)
    key = load_or_create_key(key_file, inside=Path(out).resolve().parent, notify=clock)
    if fmt == "synthetic":
        summary = import_utility_export(src, out, key, max_reject_fraction, truth_out=truth_out, progress=clock,
                                        plausibility=plausibility, customers_per_partition=customers_per_partition,
                                        engine=engine, scheduler=scheduler)
    else:
        summary = import_source(fmt, src, out, key, mapping=mapping, max_reject_fraction=max_reject_fraction,
                                progress=clock, plausibility=plausibility)
        if truth_out is not None:  # only the synthetic utility has a ground truth
            Path(truth_out).parent.mkdir(parents=True, exist_ok=True)
            for stale in Path(truth_out).parent.glob("*.parquet"):
                stale.unlink()
    for line in summary.get("problems", []):
        clock(line)
    clock(f"{summary['rows_in']} rows in = {summary['rows_in'] - summary['quarantined']} accepted + "
          f"{summary['quarantined']} quarantined (reconciled: {summary['reconciled']})")
    summary["seconds"] = round(clock.elapsed, 1)
    return summary


def metrics_of(summary: dict, fmt: str) -> dict:
    """The stage's metrics file: counts that must reconcile."""
    return {k: summary[k] for k in ("rows_in", "quarantined", "reject_fraction", "reconciled")} | {
        "format": fmt, "seconds": summary["seconds"]}


def main() -> None:
    cfg, paths = load_config(), ProjectPaths()
    fmt, src, mapping = cfg.data.source_settings()
    summary = run(src, out=paths.clean, fmt=fmt, max_reject_fraction=cfg.validate.max_reject_fraction,
                  mapping=mapping, truth_out=paths.truth, plausibility=cfg.validate.plausibility,
                  customers_per_partition=cfg.validate.customers_per_partition, engine=cfg.validate.engine)
    write_json(paths.metrics_file("validate"), metrics_of(summary, fmt))


if __name__ == "__main__":
    entry(main)
