"""Stage `regional`: per region and month, energy, peak, load factor, peak-valley rate, weather
sensitivity, coincident-peak share, weather-normalized growth and line loss next to the theft
scores; the detected new-load steps; sales per region x class x industry. The work is in
powerlens.regional; this reads the clean tables (and the theft scores when the score stage has
run) and writes `data/regional/`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens.atomic import write_json, write_parquet
from powerlens.errors import MissingInput
from powerlens.jobs.common import Clock, entry, skip_stage
from powerlens.paths import ProjectPaths

# the tables the stage writes into its output folder, and the columns it reads of each input
OUTPUTS = ("monthly", "steps", "sales_by_class", "regions")
READ = {
    "region_load": ["region", "ts", "load_kw", "outage"],
    "weather_daily": ["date", "region", "temperature_mean"],
    "weather_hourly": ["station", "ts", "temperature_c"],
    "weather_stations": ["station", "region"],
    "customers": None,
    "readings_daily": ["customer_id", "ts", "kwh"],
    "bills": ["customer_id", "period", "kwh"],
}


def _read(data: Path, table: str, needed: bool = False) -> pd.DataFrame | None:
    path = data / f"{table}.parquet"
    if not path.exists():
        if needed:
            raise MissingInput(f"no {path}: the regional analysis needs the hourly load per region "
                               "(import it with `powerlens validate` / `powerlens import ... --out "
                               f"{data}`, e.g. `powerlens import gefcom2012 SRC --out {data}`)")
        return None
    columns = READ[table]
    if columns is not None:
        import pyarrow.parquet as pq

        present = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in present]
    if table in BATCHED:
        return _batches(path, columns)
    return pd.read_parquet(path, columns=columns)


BATCHED = {"readings_daily"}  # read in batches: a whole utility's daily readings need not fit in memory
BATCH_ROWS = 2_000_000


def _batches(path: Path, columns: list[str]):
    """The table's rows, BATCH_ROWS at a time (categorical customer ids, as read_parquet gives)."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=columns):
        yield batch.to_pandas()


def _theft_scores(scores: Path | None) -> pd.DataFrame | None:
    """The score stage's theft scores (customer_id, score, rank), None when there are none."""
    if scores is None:
        return None
    path = Path(scores) / "scores.parquet" if Path(scores).is_dir() else Path(scores)
    if not path.exists():
        return None
    frame = pd.read_parquet(path, columns=["customer_id", "task", "score", "rank"])
    return frame[frame["task"] == "theft"]


def run(params: Any = None, *, data: Path, out: Path, scores: Path | None = None,
        echo: Callable[[str], Any] = print) -> dict:
    """The regional analysis of the clean folder `data` into `out` (monthly, steps,
    sales_by_class, regions parquet files and metrics.json); `scores` is the score stage's
    folder (or its scores.parquet) for the theft columns, optional. Returns the metrics with
    the seconds taken."""
    from powerlens.regional import RegionalParams, analyse, as_output

    params = params or RegionalParams()
    clock = Clock("regional", echo)
    data = Path(data)
    tables = {t: _read(data, t, needed=t == "region_load") for t in READ}
    theft = _theft_scores(scores)
    load = tables["region_load"]
    customers = tables["customers"]
    clock(f"{len(load)} region-hours of {load['region'].nunique()} regions"
          + (f"; {len(customers)} customers" if customers is not None else "; no customers (load only)")
          + (f"; theft scores of {len(theft)} accounts" if theft is not None and len(theft) else ""))
    result = analyse(load, params, weather_daily=tables["weather_daily"], weather_hourly=tables["weather_hourly"],
                     weather_stations=tables["weather_stations"], customers=customers,
                     readings_daily=tables["readings_daily"], bills=tables["bills"], scores=theft)
    out = Path(out)
    for name, frame in zip(OUTPUTS, (result.monthly, result.steps, result.sales, result.regions), strict=True):
        write_parquet(as_output(frame), out / f"{name}.parquet")
    metrics = result.summary()
    for step in result.steps.itertuples():
        clock(f"step in {step.region} on {step.date.date()}: {step.level_before_kw:,.0f} -> "
              f"{step.level_after_kw:,.0f} kW ({step.step_share:+.0%})")
    loss = metrics["line_loss_12m"]
    clock(f"{metrics['regions']} regions x {metrics['months']} months ({metrics['first_month']} .. "
          f"{metrics['last_month']}); {metrics['steps']} step(s); {metrics['outage_hours']} outage hours"
          + ("; line loss over 12 months: " + ", ".join(f"{r} {v:.1%}" for r, v in loss.items()) if loss else ""))
    # the output's copy without the time taken: the same inputs give the same bytes (DVC md5)
    write_json(out / "metrics.json", metrics)
    metrics["seconds"] = round(clock.elapsed, 1)
    return metrics


def main() -> None:
    from powerlens.config import load_config
    from powerlens.regional import RegionalParams

    paths = ProjectPaths()
    cfg = load_config()
    # params.yaml `regional`; the theft list's top is the report's
    params = RegionalParams(**cfg.regional.as_dict(), theft_top_n=cfg.report.top_n)
    if not (paths.clean / "region_load.parquet").exists():  # a source without system load (PowerCo...)
        result = skip_stage(paths.regional, "the data has no region_load: no regional analysis")
    else:
        result = run(params, data=paths.clean, out=paths.regional, scores=paths.scores)
    write_json(paths.metrics_file("regional"), result)


if __name__ == "__main__":
    entry(main)
