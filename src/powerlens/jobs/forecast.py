"""Stage `forecast` and the `powerlens forecast` command.

The stage, on the clean folder: a rolling-origin backtest of the hourly families (and of the
reconciliations of the configured one) over the last `backtest_origins` x `backtest_step_weeks`
weeks, with the actual temperatures as the weather forecast (`fc.family` must be among the
compared `families`); the monthly model against "the same
month last year" from the origin 12 months before the data's end; both compared in MLflow (a
parent run per horizon, a child run per family or variant; `powerlens.tracking` only); then the
forecasts the report shows: the week from 7 days before the data's end (last week's forecast,
against what happened), the week after it, and the 12 months after it (ex-ante: scenario weather).

The command forecasts any imported folder from the origins it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens.atomic import write_csv
from powerlens.errors import InvalidInput, MissingInput, UsageError
from powerlens.jobs.common import Clock, entry, skip_stage

Log = Callable[[str], Any]
TABLES = ("region_load", "weather_hourly", "weather_stations", "weather_daily", "calendar")
BACKTEST_COLUMNS = ["variant", "mape_total", "mase_total", "pinball_total", "coverage_total", "mape_regions_mean",
                    "mase_regions_mean", "coverage_regions_mean"]


def read_tables(data: Path) -> dict[str, pd.DataFrame]:
    data = Path(data)
    if not data.is_dir():
        raise MissingInput(f"no data folder {data}: import the load first (powerlens import ... --out {data})")
    if not (data / "region_load.parquet").exists():
        raise MissingInput(f"{data} has no region_load: a forecast needs the hourly load per region (import it with "
                           "`powerlens import gefcom2012` or the csv mapping's region_load table)")
    from powerlens.schema.reading import read_table

    return {name: read_table(data, name) for name in TABLES}  # an absent table is empty


def _origin(text: str) -> pd.Timestamp:
    from powerlens.rules import parse_date

    return pd.Timestamp(parse_date(text, "--origin"))


def forecast_command(cfg, *, data: Path, origins: list[str], out: Path, horizon_hours: int | None,
                     horizon_months: int | None, weather: str, echo: Log = print) -> int:
    """`powerlens forecast`: writes the forecast CSV; returns its number of rows."""
    from powerlens.forecast.hourly import hourly_forecast
    from powerlens.forecast.monthly import monthly_forecast
    from powerlens.forecast.panel import build_panel

    if (horizon_hours is None) == (horizon_months is None):
        raise UsageError("give one of --horizon-hours H (hourly, 1-336) or --horizon-months M (monthly, 1-12)")
    if weather not in ("given", "scenario"):
        raise UsageError(f"--weather must be given or scenario, got {weather!r}")
    if not origins:
        raise UsageError("give at least one --origin YYYY-MM-DD")
    when = [_origin(o) for o in origins]
    clock = Clock("forecast", echo)
    tables = read_tables(data)
    panel = build_panel(tables, select_before=min(when), stations_per_region=cfg.forecast.stations_per_region)
    clock(f"{len(panel.regions)} regions, load {panel.load.index.min():%Y-%m-%d} to {panel.last_hour:%Y-%m-%d %H:%M}")
    if horizon_hours is not None:
        frame = hourly_forecast(panel, when, horizon_hours, weather, cfg.forecast.hourly(), progress=clock)
        frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%d %H:%M")
        frame["origin"] = frame["origin"].dt.strftime("%Y-%m-%d")
    else:
        if len(when) != 1:
            raise UsageError("a monthly forecast takes one --origin (the first of a month)")
        if weather == "given":
            raise UsageError("--horizon-months forecasts are ex-ante: --weather scenario (the default)")
        frame = monthly_forecast(panel, when[0], horizon_months, cfg.forecast.monthly(), progress=clock)
    write_csv(frame.round(3), out)
    clock(f"wrote {len(frame)} rows to {out}")
    return len(frame)


def _register(kind: str, variant: str, skills: dict[str, float], threshold: float, save, clock) -> dict:
    """Log and register the forecaster of `variant` as powerlens-forecast-<kind>; champion when its
    skill (1 - MAPE of the total / the naive's) beats the current champion's by `threshold`, the
    champion measured on this same backtest when its variant is among the compared ones (else its
    registered skill); a DVC experiment's model is only ever a challenger."""
    import tempfile

    from powerlens import tracking

    task = f"forecast-{kind}"
    skill = skills[variant]
    current = tracking.champion_version(task)
    champion_skill = None
    if current is not None:
        tags = current.tags or {}
        champion_skill = skills.get(tags.get("family", ""))
        if champion_skill is None:
            champion_skill = float(tags["skill"]) if "skill" in tags else None
    promote = champion_skill is None or skill >= champion_skill + threshold
    decision = ("first forecaster: champion" if champion_skill is None else
                f"skill {skill:.4f} vs champion's {champion_skill:.4f} on the same backtest "
                f"(threshold {threshold}): {'champion' if promote else 'challenger'}")
    if tracking.dvc_experiment():
        promote, decision = False, f"experiment: registered as challenger ({decision})"
    with tempfile.TemporaryDirectory() as tmp:
        uri = tracking.log_forecaster(save(Path(tmp) / "forecaster"), "forecaster")
    version = tracking.register(uri, task, promote, tags={"skill": f"{skill:.6f}", "family": variant})
    tracking.log_dict({"decision": decision, "promoted": promote, "version": version}, "promotion.json")
    clock(f"powerlens-{task} version {version}: {decision}")
    return {"registered_version": int(version), "promoted": promote, "skill": skill, "decision": decision}


def run(cfg, *, data: Path, out: Path, metrics: Path | None = None, echo: Log = print) -> dict:
    """The stage (see the module): writes out/{hourly,monthly,backtest,backtest_detail,monthly_backtest}.csv."""
    from powerlens import tracking
    from powerlens.atomic import atomic_dir
    from powerlens.forecast import store
    from powerlens.forecast.backtest import backtest_hourly, monthly_backtest, rolling_origins
    from powerlens.forecast.hourly import forecast_origin
    from powerlens.forecast.monthly import monthly_forecast
    from powerlens.forecast.panel import build_panel, load_end
    from powerlens.rules import FORECAST_EXPERIMENT

    clock = Clock("forecast", echo)
    fc = cfg.forecast
    tables = read_tables(data)
    end = load_end(tables["region_load"])
    origins = rolling_origins(end, fc.horizon_hours, fc.backtest_origins, fc.backtest_step_weeks)
    panel = build_panel(tables, select_before=origins[0], stations_per_region=fc.stations_per_region)
    clock(f"{len(panel.regions)} regions to {panel.last_hour:%Y-%m-%d %H:%M}; backtest origins "
               f"{origins[0]:%Y-%m-%d} .. {origins[-1]:%Y-%m-%d}")
    tags = tracking.run_tags("forecast", [data])
    summary: dict[str, Any] = {}
    with tracking.run("forecast-hourly", FORECAST_EXPERIMENT, tags=tags):
        tracking.log_params({"horizon_hours": fc.horizon_hours, "origins": len(origins), "family": fc.family,
                             "reconciliation": fc.reconciliation, "calibration_weeks": fc.calibration_weeks})
        results, fitted = backtest_hourly(panel, origins, fc.horizon_hours, "given", fc.hourly(), tuple(fc.families),
                                     progress=clock)
        for variant, (numbers, detail) in results.items():
            with tracking.run(variant, FORECAST_EXPERIMENT, tags=tags | {"family": variant}, nested=True):
                tracking.log_metrics(numbers)
                tracking.log_table(detail, "backtest_by_region_and_day.csv")
        naive = results.get("seasonal_naive", (None,))[0]
        best = min(results, key=lambda v: results[v][0]["mape_total"])
        chosen = results[fc.family][0]
        hourly_summary = {"best_variant": best, "mape_total": chosen["mape_total"],
                          "mape_regions_mean": chosen["mape_regions_mean"],
                          "coverage_total": chosen["coverage_total"],
                          "coverage_regions_mean": chosen["coverage_regions_mean"]}
        if naive is not None:
            hourly_summary["skill_vs_seasonal_naive"] = 1 - chosen["mape_total"] / naive["mape_total"]
        if "vanilla" in results:
            hourly_summary["gain_vs_vanilla"] = 1 - chosen["mape_total"] / results["vanilla"][0]["mape_total"]
        tracking.log_metrics({k: v for k, v in hourly_summary.items() if isinstance(v, float)})
        if naive is not None:
            skills = {v: 1 - r[0]["mape_total"] / naive["mape_total"] for v, r in results.items()}
            variant = fc.family if fc.family in results else next(iter(results))
            hourly_summary |= _register("hourly", variant, skills, fc.promotion_threshold,
                                        lambda folder: store.save_hourly(fitted, fc.hourly(), folder), clock)
        summary["hourly"] = hourly_summary
    backtest = pd.DataFrame([{"variant": v, **numbers} for v, (numbers, _) in results.items()])[BACKTEST_COLUMNS]
    detail = pd.concat([d.assign(variant=v) for v, (_, d) in results.items()], ignore_index=True)

    monthly_origin = (end - pd.DateOffset(months=fc.horizon_months)).to_period("M").start_time
    with tracking.run("forecast-monthly", FORECAST_EXPERIMENT, tags=tags):
        try:
            monthly_numbers, monthly_detail = monthly_backtest(panel, monthly_origin, fc.horizon_months, fc.monthly())
        except InvalidInput as exc:  # too little history for a year's backtest: said, not hidden
            monthly_numbers, monthly_detail = {"skipped": str(exc)}, pd.DataFrame()
            clock(f"monthly backtest skipped: {exc}")
        tracking.log_metrics({k: v for k, v in monthly_numbers.items() if isinstance(v, float)})
        if "mape_total" in monthly_numbers and monthly_numbers["mape_total_same_month_last_year"] > 0:
            skill = 1 - monthly_numbers["mape_total"] / monthly_numbers["mape_total_same_month_last_year"]
            monthly_numbers |= _register("monthly", "regression_scenarios", {"regression_scenarios": skill,
                                                                             "same_month_last_year": 0.0},
                                         fc.promotion_threshold, lambda folder: store.save_monthly(fc.monthly(), folder),
                                         clock)
        summary["monthly"] = monthly_numbers | {"origin": f"{monthly_origin:%Y-%m-%d}"}
    clock("backtests done")

    # last week's forecast (against what happened) and the week ahead, by the backtested model
    # (fitted before the first backtest origin: it reads nothing after either origin)
    week_before = (end - pd.Timedelta(days=7)).floor("D")
    ahead = pd.concat([forecast_origin(fitted, panel, o, "scenario", fc.hourly()) for o in (week_before, end.floor("D"))],
                      ignore_index=True)

    month_start = end.to_period("M").start_time if end.day != 1 or end.hour else end
    monthly = monthly_forecast(panel, month_start, fc.horizon_months, fc.monthly())
    with atomic_dir(out) as tmp:
        write_csv(ahead.assign(ts=ahead["ts"].dt.strftime("%Y-%m-%d %H:%M"),
                               origin=ahead["origin"].dt.strftime("%Y-%m-%d")).round(3), tmp / "hourly.csv")
        write_csv(monthly.round(3), tmp / "monthly.csv")
        write_csv(backtest.round(5), tmp / "backtest.csv")
        write_csv(detail.round(5), tmp / "backtest_detail.csv")
        write_csv(monthly_detail.round(5), tmp / "monthly_backtest.csv")
    summary["seconds"] = round(clock.elapsed, 1)
    clock(f"forecasts in {out}")
    return summary


def main() -> None:
    from powerlens.config import load_config, write_json
    from powerlens.paths import ProjectPaths

    paths = ProjectPaths()
    cfg = load_config()
    if not (paths.clean / "region_load.parquet").exists():  # a source without system load (PowerCo...)
        result = skip_stage(paths.forecast, "the data has no region_load: no load forecast")
    else:
        result = run(cfg, data=paths.clean, out=paths.forecast)
    write_json(paths.metrics_file("forecast"), result)


if __name__ == "__main__":
    entry(main)
