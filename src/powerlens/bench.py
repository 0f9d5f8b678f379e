"""`powerlens bench features`: how fast the feature engine is, against references measured in
the same run on the same machine.

- the engine: every feature at one cut-off (365-day look-back) for every customer, read from the
  clean parquet files, run in a child process so that its peak RSS is its own;
- the scan floor: DuckDB summing kWh per customer over the same parquet (`GROUP BY customer_id`),
  the least work any per-customer feature needs;
- tsfresh with `MinimalFCParameters` on a sample of customers (read from the same parquet),
  scaled per reading.

The readings file is read once before anything is timed, so every contender starts from the page
cache (the first to run would otherwise pay for the disk).

Data are generated once per size into `data/bench/<interval>_<customers>x<days>/` in the canonical
layout (pseudonym-like ids, readings sorted by customer), so a rerun measures only the engines.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from powerlens.errors import InvalidInput

END = pd.Timestamp("2026-11-01")
CHUNK_CUSTOMERS = 2000
ROW_GROUP = 1 << 20
SHAPES = {  # hour-of-day shapes of a few customer classes (relative load)
    "residential": np.r_[[0.5] * 6, [0.8, 1.1, 1.0, 0.8, 0.7, 0.7, 0.8, 0.8, 0.8, 0.9, 1.1, 1.6, 1.9, 1.8,
                          1.5, 1.2, 0.9, 0.7]],
    "commercial": np.r_[[0.3] * 7, [0.7, 1.4, 1.6, 1.7, 1.7, 1.6, 1.7, 1.7, 1.6, 1.4, 1.0, 0.6, 0.4],
                        [0.3] * 4],
    "industrial": np.r_[[0.9] * 24],
}


def bench_folder(root: Path, customers: int, days: int, interval: str) -> Path:
    return Path(root) / f"{interval}_{customers}x{days}"


def generate_bench_data(folder: Path, customers: int, days: int, interval: str, seed: int = 1,
                        progress: Callable[[str], None] | None = None) -> int:
    """Write customers and readings (hourly or daily) for `days` days before END; returns readings."""
    say = progress or (lambda message: None)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = np.array(sorted(hashlib.sha256(f"bench-{i}".encode()).hexdigest()[:17] for i in range(customers)),
                   dtype=object)
    classes = rng.choice(list(SHAPES), size=customers, p=[0.85, 0.12, 0.03])
    base = np.exp(rng.normal(0, 0.6, customers)) * np.select(
        [classes == "residential", classes == "commercial"], [0.4, 6.0], 40.0)
    pd.DataFrame({
        "customer_id": ids, "customer_class": classes, "region": rng.choice(["north", "south"], customers),
        "industry": None, "voltage_kv": np.where(classes == "residential", 0.4, 10.0),
        "capacity_kva": np.round(base * 4 + 5), "two_part_tariff": classes == "industrial",
        "tou_tariff": rng.random(customers) < 0.2, "prepaid_meter": False,
        "start_date": (END - pd.Timedelta(days=days + 400)), "end_date": pd.NaT,
    }).astype({"start_date": "datetime64[us]", "end_date": "datetime64[us]"}).to_parquet(
        folder / "customers.parquet", index=False)

    step = pd.Timedelta(hours=1) if interval == "hourly" else pd.Timedelta(days=1)
    per_day = 24 if interval == "hourly" else 1
    n_steps = days * per_day
    ts = pd.date_range(END - pd.Timedelta(days=days), periods=n_steps, freq=step).to_numpy().astype("datetime64[us]")
    doy = pd.DatetimeIndex(ts).day_of_year.to_numpy()
    season = 1 + 0.25 * np.cos(2 * np.pi * (doy - 15) / 365.25)
    shape = {c: np.tile(s / s.mean(), days) if interval == "hourly" else np.ones(n_steps) for c, s in SHAPES.items()}
    schema = pa.schema([("customer_id", pa.dictionary(pa.int32(), pa.string())), ("ts", pa.timestamp("us")),
                        ("kwh", pa.float32())])
    table = "readings_hourly" if interval == "hourly" else "readings_daily"
    scale = 1.0 if interval == "hourly" else 24.0
    tmp = folder / f"{table}.parquet.partial"
    with pq.ParquetWriter(tmp, schema) as writer:
        for start in range(0, customers, CHUNK_CUSTOMERS):
            rows = slice(start, min(start + CHUNK_CUSTOMERS, customers))
            n = rows.stop - rows.start
            profile = np.stack([shape[c] for c in classes[rows]]) * season[None, :]
            kwh = (base[rows, None] * scale * profile * rng.lognormal(0, 0.25, (n, n_steps))).astype(np.float32)
            indices = pa.array(np.repeat(np.arange(n, dtype=np.int32), n_steps))
            batch = pa.table({
                "customer_id": pa.DictionaryArray.from_arrays(indices, pa.array(list(ids[rows]), pa.string())),
                "ts": pa.array(np.tile(ts, n)), "kwh": pa.array(kwh.ravel())}, schema=schema)
            writer.write_table(batch, row_group_size=ROW_GROUP)
            say(f"generated {rows.stop}/{customers} customers")
    tmp.rename(folder / f"{table}.parquet")
    (folder / "bench.json").write_text(json.dumps({"customers": customers, "days": days, "interval": interval,
                                                   "readings": customers * n_steps}))
    return customers * n_steps


def warm_page_cache(path: Path, block: int = 1 << 24) -> tuple[float, int]:
    """Read a file once, sequentially: whichever engine ran first would otherwise pay for the
    disk and the other be timed from memory. Returns (seconds, bytes)."""
    start, size = time.perf_counter(), 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(block):
            size += len(chunk)
    return time.perf_counter() - start, size


def _readings_file(folder: Path) -> Path:
    meta = json.loads((folder / "bench.json").read_text())
    return folder / ("readings_hourly.parquet" if meta["interval"] == "hourly" else "readings_daily.parquet")


def run_engine(folder: Path, engine: str = "local", customers_per_partition: int = 10_000, threads: int = 1) -> dict:
    """The feature engine at one cut-off over the whole folder (what the child process runs)."""
    from powerlens.features.engine import build_features, data_end_of

    start = time.perf_counter()
    as_of = data_end_of(folder)
    feats, _ = build_features(folder, [as_of], {"history_days": 365}, engine=engine,
                              customers_per_partition=customers_per_partition, threads=threads)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "rows": len(feats), "features": feats.shape[1] - 2,
            "filled": float(feats.drop(columns=["customer_id", "as_of"]).notna().to_numpy().mean()),
            "peak_rss_mb": max(usage, children) / 1024}


def _engine_in_child(folder: Path, engine: str, customers_per_partition: int, threads: int) -> dict:
    code = ("import json, sys; from pathlib import Path; from powerlens.bench import run_engine; "
            "print(json.dumps(run_engine(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))")
    proc = subprocess.run([sys.executable, "-c", code, str(folder), engine, str(customers_per_partition),
                           str(threads)],
                          capture_output=True, text=True, env=os.environ | {"PYTHONWARNINGS": "ignore"})
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the feature engine failed on {folder}: {tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scan_floor(folder: Path) -> float:
    """Seconds for DuckDB to sum kWh per customer over the readings parquet (all cores)."""
    import duckdb

    path = str(_readings_file(folder)).replace("'", "''")
    con = duckdb.connect()
    con.execute(f"SET threads TO {os.cpu_count() or 1}")
    start = time.perf_counter()
    con.execute(f"SELECT customer_id, sum(kwh) FROM read_parquet('{path}') GROUP BY customer_id").fetchall()
    return time.perf_counter() - start


def tsfresh_seconds_per_reading(folder: Path, sample_customers: int) -> tuple[float, int]:
    """tsfresh MinimalFCParameters on the first `sample_customers` customers, read from the same
    parquet; returns (seconds per reading, readings in the sample)."""
    from tsfresh import extract_features
    from tsfresh.feature_extraction import MinimalFCParameters

    from powerlens.features.engine import customer_ids
    from powerlens.schema import read_customer_range

    ids = sorted(customer_ids(folder))[:sample_customers]
    start = time.perf_counter()
    readings = read_customer_range(folder, _readings_file(folder).stem, ids[0], ids[-1],
                                   columns=["customer_id", "ts", "kwh"])
    readings["customer_id"] = readings["customer_id"].astype(str)
    extract_features(readings, column_id="customer_id", column_sort="ts", column_value="kwh",
                     default_fc_parameters=MinimalFCParameters(), n_jobs=0, disable_progressbar=True)
    return (time.perf_counter() - start) / len(readings), len(readings)


def bench_features(customers: int, days: int, interval: str, root: Path, engine: str = "local",
                   customers_per_partition: int = 10_000, tsfresh_sample: int = 200, regenerate: bool = False,
                   threads: int = 1,
                   progress: Callable[[str], None] | None = None) -> dict:
    """Generate (if needed) and measure; returns the numbers the command prints."""
    if interval not in ("hourly", "daily"):
        raise InvalidInput(f"interval must be hourly or daily, not {interval!r}")
    if customers < 1 or days < 30:
        raise InvalidInput("the benchmark needs at least 1 customer and 30 days")
    say = progress or (lambda message: None)
    folder = bench_folder(root, customers, days, interval)
    if regenerate or not (folder / "bench.json").exists():
        say(f"generating {customers} customers x {days} days of {interval} readings in {folder}")
        generate_bench_data(folder, customers, days, interval, progress=say)
    readings = json.loads((folder / "bench.json").read_text())["readings"]
    seconds, size = warm_page_cache(_readings_file(folder))
    say(f"read the readings file once ({size / 1e9:.1f} GB in {seconds:.1f} s), so that the engine and the "
        "scan floor both start from the page cache")
    say(f"{readings:,} readings; running the feature engine ({engine}, {threads} thread(s), "
        f"{customers_per_partition} customers per partition)")
    result = _engine_in_child(folder, engine, customers_per_partition, threads)
    say(f"engine: {result['seconds']:.1f} s, {result['features']} features x {result['rows']} customers, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB")
    scan = scan_floor(folder)
    say(f"DuckDB scan floor: {scan:.2f} s")
    per_reading, sample = tsfresh_seconds_per_reading(folder, min(tsfresh_sample, customers))
    say(f"tsfresh MinimalFCParameters: {1 / per_reading:,.0f} readings/s on {sample:,} readings")
    ours_per_reading = result["seconds"] / readings
    return {
        "customers": customers, "days": days, "interval": interval, "readings": readings, "engine": engine,
        "threads": threads,
        "seconds": round(result["seconds"], 2), "features": result["features"],
        "readings_per_s": round(readings / result["seconds"]),
        "scan_seconds": round(scan, 3), "ratio_vs_scan": round(result["seconds"] / scan, 2),
        "tsfresh_readings_per_s": round(1 / per_reading),
        "speedup_vs_tsfresh": round(per_reading / ours_per_reading, 2),
        "peak_rss_mb": round(result["peak_rss_mb"]),
    }


def summary_line(result: dict) -> str:
    """The machine-readable last line."""
    keys = ("readings_per_s", "ratio_vs_scan", "speedup_vs_tsfresh", "peak_rss_mb")
    return " ".join(f"{k}={result[k]}" for k in keys)


# ---------------------------------------------------------------------------------------------
# `powerlens bench forecast`

def _autoarima(history: pd.DataFrame, horizon: int, season: int, say: Callable[[str], None]) -> dict:
    """Run autoarima_worker.py in statsforecast's own environment (uv run --isolated)."""
    import tempfile

    from powerlens.forecast.models import STATSFORECAST, statsforecast_command

    worker = Path(__file__).parent / "forecast" / "autoarima_worker.py"
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "history.parquet", Path(tmp) / "out.json"
        history.to_parquet(source, index=False)
        say(f"AutoARIMA ({STATSFORECAST}, its own environment: it needs pandas < 3) on {history['unique_id'].nunique()} "
            "series; the first compiles (numba) and is timed apart")
        start = time.perf_counter()
        argv, env = statsforecast_command(worker, str(source), str(target), str(horizon), str(season))
        done = subprocess.run(argv, capture_output=True, text=True, timeout=3600, env=env)
        if done.returncode != 0:
            raise InvalidInput("statsforecast's AutoARIMA could not run (its environment is installed from PyPI by uv): "
                               + (done.stderr.strip().splitlines() or ["no output"])[-1])
        out = json.loads(target.read_text())
        out["wall_seconds"] = time.perf_counter() - start
        return out


def bench_forecast(data: Path, cfg, origins: int = 13, step_weeks: int = 4, horizon: int = 168,
                   arima_series: int = 3, arima_weeks: int = 8, weather: str = "given",
                   progress: Callable[[str], None] | None = None) -> dict:
    """`powerlens forecast` for every region and the total from `origins` origins (every
    `step_weeks`, the last a horizon before the data's end), against statsforecast's AutoARIMA
    (season 24, the last `arima_weeks` weeks) on the first `arima_series` regions from the last
    origin: seconds per series and origin, and both MAPEs on those series."""
    from powerlens.forecast.backtest import rolling_origins
    from powerlens.forecast.hourly import hourly_forecast
    from powerlens.forecast.panel import build_panel, load_end
    from powerlens.jobs.forecast import read_tables

    if origins < 1 or arima_series < 2 or arima_weeks < 2:
        raise InvalidInput("the benchmark needs at least 1 origin, 2 AutoARIMA series (the first only compiles) "
                           "and 2 weeks of AutoARIMA history")
    say = progress or (lambda message: None)
    tables = read_tables(data)
    when = rolling_origins(load_end(tables["region_load"]), horizon, origins, step_weeks)
    last = when[-1]
    say(f"{tables['region_load']['region'].nunique()} regions + total x {origins} origins x {horizon} hours "
        f"({weather} weather)")
    start = time.perf_counter()
    panel = build_panel(tables, select_before=when[0], stations_per_region=cfg.forecast.stations_per_region)
    ours = hourly_forecast(panel, when, horizon, weather, cfg.forecast.hourly(), progress=say)
    seconds = time.perf_counter() - start
    series_origins = (len(panel.regions) + 1) * origins
    say(f"powerlens: {seconds:.1f} s for {series_origins} series x origins")
    regions = panel.regions[:arima_series]
    history = panel.load[regions]
    history = history[(history.index < last) & (history.index >= last - pd.Timedelta(weeks=arima_weeks))]
    history = history.interpolate(limit_direction="both")  # AutoARIMA takes no gaps
    long = history.stack().rename("y").reset_index().rename(columns={"ts": "ds", "region": "unique_id"})
    long = long[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"])
    arima = _autoarima(long, horizon, 24, say)
    per_arima = float(np.mean(arima["seconds"]))
    per_ours = seconds / series_origins
    actual = panel.load
    mine = ours[(ours["origin"] == last) & ours["region"].isin(regions)]

    def mape(frame: pd.DataFrame, column: str) -> float:
        joined = frame.join(actual.stack().rename("actual").rename_axis(["ts", "region"]), on=["ts", "region"])
        joined = joined[joined["actual"] > 0]
        return float(((joined[column] - joined["actual"]).abs() / joined["actual"]).mean())

    theirs = pd.concat([pd.DataFrame({"region": f["unique_id"], "ts": pd.to_datetime(f["ds"]), "yhat": f["yhat"]})
                        for f in arima["forecasts"]])
    say(f"AutoARIMA: {per_arima:.1f} s per series after a {arima['warmup_seconds']:.1f} s first one")
    return {"regions": len(panel.regions), "origins": origins, "horizon_hours": horizon, "weather": weather,
            "seconds": round(seconds, 1), "series_origins": series_origins,
            "seconds_per_series_origin": round(per_ours, 3),
            "autoarima_series": arima_series - 1, "autoarima_seconds_per_series_origin": round(per_arima, 2),
            "autoarima_warmup_seconds": round(arima["warmup_seconds"], 1),
            "speedup_vs_autoarima": round(per_arima / per_ours, 1),
            "mape_powerlens_on_those": round(mape(mine, "forecast"), 4),
            "mape_autoarima": round(mape(theirs, "yhat"), 4)}


def forecast_summary_line(result: dict) -> str:
    keys = ("series_origins", "seconds", "seconds_per_series_origin", "autoarima_seconds_per_series_origin",
            "speedup_vs_autoarima")
    return " ".join(f"{k}={result[k]}" for k in keys)
