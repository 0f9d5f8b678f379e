"""Stage `generate`: the raw export of the embedded synthetic utility (with direct identifiers,
as a real export would carry them) and its ground truth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from powerlens.atomic import atomic_dir
from powerlens.config import load_config, write_json
from powerlens.errors import UsageError
from powerlens.jobs.common import Clock, entry
from powerlens.paths import ProjectPaths


def run(settings: Any, *, out: Path, echo: Callable[[str], Any] = print) -> dict:
    """Generate the utility described by `settings` (the `generate` section) into `out`."""
    from powerlens.synthetic import SyntheticConfig, generate

    clock = Clock("generate", echo)
    cfg = SyntheticConfig(customers=settings.customers, months=settings.months, seed=settings.seed,
                          end=settings.end,
                          interval_metered_residential_share=settings.interval_metered_residential_share)
    out = Path(out)
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").exists():
        raise UsageError(f"{out} is not empty and holds no raw export: choose an empty folder for --out")
    # written beside the folder and moved into place when complete: a kill leaves the old export
    with atomic_dir(out) as staging:
        counts = generate(cfg, staging, progress=clock, customers_per_partition=settings.customers_per_partition)
    clock(f"wrote the raw export of {settings.customers} customers x {settings.months} months to {out}")
    return {"rows": counts, "seconds": round(clock.elapsed, 1)}


def main() -> None:
    paths = ProjectPaths()
    result = run(load_config().generate, out=paths.raw)
    write_json(paths.metrics_file("generate"), result)


if __name__ == "__main__":
    entry(main)
