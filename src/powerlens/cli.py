"""The `powerlens` command. Every subcommand has --help; defaults come from params.yaml (the
typed config), never from here. The project's own errors (powerlens.errors) end in a one-line
message and exit code 2; anything else is a bug and shows its traceback with a hint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import traceback
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="powerlens: features, segments, risk models and strategy reports for electricity utilities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
KEY_HELP = "pseudonym key (default: $POWERLENS_KEY_FILE or ~/.config/powerlens/pseudonym.key)"


def friendly(fn):
    """Our errors as one line on stderr and exit 2; a bug keeps its traceback (exit 1)."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from powerlens.errors import PowerlensError, one_line
        from powerlens.jobs.common import BUG_HINT, configure_process

        configure_process()
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except PowerlensError as exc:
            typer.echo(f"error: {one_line(exc)}", err=True)
            raise typer.Exit(2) from None
        except Exception:
            typer.echo(traceback.format_exc(), err=True)
            typer.echo(BUG_HINT, err=True)
            raise typer.Exit(1) from None

    return wrapper


def _config():
    from powerlens.config import load_config

    return load_config()


def _paths():
    from powerlens.paths import project_paths

    return project_paths()


@app.command()
@friendly
def generate(
    out: Annotated[Path | None, typer.Option(help="folder for the raw export (default data/raw)")] = None,
    customers: Annotated[int | None, typer.Option(min=10, help="number of accounts (default: params generate.customers)")] = None,
    months: Annotated[int | None, typer.Option(min=13, help="months of history (default: params)")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed: same seed, same utility (default: params)")] = None,
    end: Annotated[str | None, typer.Option(help="first day after the data, YYYY-MM-DD (default: params)")] = None,
):
    """Write the raw export of the embedded synthetic utility (with direct identifiers, as a
    real export would carry them) and its ground truth."""
    from powerlens.jobs import generate as job

    given = {"customers": customers, "months": months, "seed": seed, "end": end}
    settings = _config().replace("generate", **{k: v for k, v in given.items() if v is not None}).generate
    job.run(settings, out=out or _paths().raw)


@app.command()
@friendly
def validate(
    src: Annotated[Path | None, typer.Argument(help="raw export folder (default data/raw)")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for the canonical tables (default data/clean)")] = None,
    key_file: Annotated[str | None, typer.Option(help=KEY_HELP)] = None,
    max_reject_fraction: Annotated[float | None, typer.Option(
        help="fail when more rows than this share are quarantined (default: params validate)")] = None,
    truth_out: Annotated[Path | None, typer.Option(help="where to write the generator's ground truth, if any")] = None,
    engine: Annotated[str | None, typer.Option(help="local or dask (default: params validate.engine)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: $POWERLENS_DASK_SCHEDULER, "
             "else a LocalCluster on this machine)")] = None,
):
    """Anonymize and validate an export: one line per problem, bad rows quarantined with their
    reason, counts reconciled (the readings a partition of customers at a time, in this process
    or as Dask tasks with --engine dask)."""
    from powerlens.jobs import validate as job

    paths = _paths()
    out = out or paths.clean
    settings = _config().validate
    limit = settings.max_reject_fraction if max_reject_fraction is None else max_reject_fraction
    summary = job.run(src or paths.raw, out=out, key_file=key_file, max_reject_fraction=limit, truth_out=truth_out,
                      plausibility=settings.plausibility, customers_per_partition=settings.customers_per_partition,
                      engine=engine or settings.engine, scheduler=scheduler)
    typer.echo(f"canonical tables in {out}; quarantine in {out / 'quarantine'}; summary in {out / 'validation.json'}")
    if not summary["reconciled"]:
        raise typer.Exit(2)


@app.command("import")
@friendly
def import_(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="lcl, powerco, credit-history, gefcom2012, csv or synthetic")],
    src: Annotated[Path, typer.Argument(help="source file or folder")],
    out: Annotated[Path | None, typer.Option(help="folder for the canonical tables (default data/clean)")] = None,
    key_file: Annotated[str | None, typer.Option(help=KEY_HELP)] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML column mapping (csv format)")] = None,
    max_reject_fraction: Annotated[float | None, typer.Option(
        help="fail (exit 2) when more rows than this share are quarantined (default: params validate)")] = None,
):
    """Import a real source into anonymized canonical tables, with quarantine and a summary."""
    import json

    from powerlens.jobs import validate as job

    out = out or _paths().clean
    settings = _config().validate
    limit = settings.max_reject_fraction if max_reject_fraction is None else max_reject_fraction
    summary = job.run(src, out=out, fmt=fmt, key_file=key_file, max_reject_fraction=limit, mapping=mapping,
                      plausibility=settings.plausibility)
    tables = {t: {k: r[k] for k in ("rows_in", "accepted", "quarantined")} for t, r in summary["tables"].items()}
    typer.echo(json.dumps({"tables": tables, "reconciled": summary["reconciled"]}, indent=2))
    typer.echo(f"canonical tables in {out}; summary in {out / 'validation.json'}")
    if not summary["reconciled"]:
        raise typer.Exit(2)


@app.command()
@friendly
def pseudonymize(
    key_file: Annotated[str | None, typer.Option(help="pseudonym key (default: $POWERLENS_KEY_FILE)")] = None,
):
    """Read raw ids (one per line) on stdin, print `raw_id,customer_id` lines: for a secure
    system holding the key to link action lists back to accounts."""
    from powerlens.anonymize import key_path, pseudonym, read_key
    from powerlens.errors import MissingInput

    path = key_path(key_file)
    if not path.exists():
        raise MissingInput("no pseudonym key at the given path: pass --key-file or set POWERLENS_KEY_FILE")
    key = read_key(path)
    for line in sys.stdin:
        raw = line.strip()
        if raw:
            typer.echo(f"{raw},{pseudonym(key, raw)}")


@app.command()
@friendly
def features(
    data: Annotated[Path | None, typer.Option(help="clean data folder (default data/clean)")] = None,
    out: Annotated[Path | None, typer.Option(help="features folder (default data/features)")] = None,
    engine: Annotated[str | None, typer.Option(help="local or dask (default: params features.engine)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a LocalCluster on this machine)")] = None,
    customers_per_partition: Annotated[int | None, typer.Option(
        min=1, help="customers per partition (bounds memory; default: params)")] = None,
    threads: Annotated[int | None, typer.Option(
        min=1, help="partitions at once on the local engine (default: params features.threads)")] = None,
):
    """Customer features at every training cut-off and at the scoring cut-off, a partition of
    customers at a time (in this process, or as Dask tasks with --engine dask)."""
    from powerlens.jobs import features as job

    paths = _paths()
    given = {"customers_per_partition": customers_per_partition, "threads": threads}
    settings = _config().replace("features", **{k: v for k, v in given.items() if v is not None}).features
    job.run(settings, data=data or paths.clean, out=out or paths.features, engine=engine, scheduler=scheduler)


bench_app = typer.Typer(help="Benchmarks, reported as ratios against references measured in the same run.",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("features")
@friendly
def bench_features(
    customers: Annotated[int, typer.Option(min=1, help="customers")] = 10_000,
    days: Annotated[int, typer.Option(min=30, help="days of readings")] = 365,
    interval: Annotated[str, typer.Option(help="hourly or daily")] = "hourly",
    engine: Annotated[str, typer.Option(help="local or dask")] = "local",
    customers_per_partition: Annotated[int, typer.Option(min=1, help="customers per partition")] = 5_000,
    threads: Annotated[int, typer.Option(min=1, help="partitions at once on the local engine (default: cores)")] = (
        os.cpu_count() or 1),
    tsfresh_sample: Annotated[int, typer.Option(min=1, help="customers in the tsfresh sample")] = 200,
    data_dir: Annotated[Path | None, typer.Option(help="where generated benchmark data are kept (default data/bench)")] = None,
    regenerate: Annotated[bool, typer.Option(help="generate the data again")] = False,
):
    """Feature-engine speed and memory on generated readings: readings/s, peak RSS, the ratio to a
    DuckDB GROUP BY scan of the same parquet and the speed-up over tsfresh (MinimalFCParameters).
    The last line is machine-readable."""
    from powerlens.bench import bench_features as run
    from powerlens.bench import summary_line
    from powerlens.jobs.common import Clock

    result = run(customers, days, interval, data_dir or _paths().data / "bench", engine=engine, customers_per_partition=customers_per_partition,
                 tsfresh_sample=tsfresh_sample, regenerate=regenerate, threads=threads, progress=Clock("bench"))
    typer.echo(f"{result['readings']:,} {interval} readings, {result['features']} features: "
               f"{result['readings_per_s']:,} readings/s ({result['seconds']} s), "
               f"{result['ratio_vs_scan']}x the DuckDB scan floor ({result['scan_seconds']} s), "
               f"{result['speedup_vs_tsfresh']}x tsfresh ({result['tsfresh_readings_per_s']:,} readings/s), "
               f"peak RSS {result['peak_rss_mb']} MB")
    typer.echo(summary_line(result))


@bench_app.command("pipeline")
@friendly
def bench_pipeline(
    customers: Annotated[str, typer.Option(help="sizes of the synthetic utility, comma-separated")] = "10000,25000,50000",
    months: Annotated[int | None, typer.Option(min=1, help="months of data (default: params.yaml's generate.months)")] = None,
    stages: Annotated[str | None, typer.Option(help="only these stages, comma-separated (default: all of dvc.yaml)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where each size's project is kept (default data/bench/pipeline)")] = None,
):
    """The whole pipeline at each size: seconds and peak memory (the stage's process tree) per
    stage and size, and the growth exponent of time in customers (1 = linear). Each size runs
    in its own project folder. The last line is machine-readable."""
    from powerlens.bench_pipeline import bench_pipeline as run
    from powerlens.bench_pipeline import pipeline_summary_line, pipeline_table
    from powerlens.errors import UsageError
    from powerlens.jobs.common import Clock

    try:
        sizes = [int(x) for x in customers.replace(" ", "").split(",") if x]
    except ValueError:
        raise UsageError(f"--customers takes whole numbers separated by commas, got {customers!r}") from None
    paths = _paths()
    result = run(sizes, data_dir or paths.data / "bench" / "pipeline", paths.root, months=months,
                 stages=[s for s in (stages or "").replace(" ", "").split(",") if s] or None, progress=Clock("bench"))
    typer.echo(pipeline_table(result))
    typer.echo(pipeline_summary_line(result))


@bench_app.command("forecast")
@friendly
def bench_forecast(
    data: Annotated[Path, typer.Option(help="an imported folder with region_load and weather (e.g. GEFCom2012)")],
    origins: Annotated[int, typer.Option(min=1, help="rolling origins, every --step-weeks")] = 13,
    step_weeks: Annotated[int, typer.Option(min=1, help="weeks between origins")] = 4,
    horizon_hours: Annotated[int, typer.Option(min=1, max=336, help="hours ahead")] = 168,
    arima_series: Annotated[int, typer.Option(min=2, help="regions AutoARIMA forecasts (the first only compiles)")] = 3,
    arima_weeks: Annotated[int, typer.Option(min=2, help="weeks of history AutoARIMA fits")] = 8,
    weather: Annotated[str, typer.Option(help="given or scenario")] = "given",
):
    """`powerlens forecast` (every region and total, every origin) against statsforecast's
    AutoARIMA on the same series: seconds per series and origin, their ratio, both MAPEs. The
    last line is machine-readable."""
    from powerlens.bench import bench_forecast as run
    from powerlens.bench import forecast_summary_line
    from powerlens.jobs.common import Clock

    result = run(data, _config(), origins=origins, step_weeks=step_weeks, horizon=horizon_hours,
                 arima_series=arima_series, arima_weeks=arima_weeks, weather=weather, progress=Clock("bench"))
    typer.echo(f"powerlens: {result['seconds']} s for {result['series_origins']} series x origins "
               f"({result['seconds_per_series_origin']} s each); AutoARIMA: "
               f"{result['autoarima_seconds_per_series_origin']} s per series and origin (after a "
               f"{result['autoarima_warmup_seconds']} s first one): {result['speedup_vs_autoarima']}x; MAPE on "
               f"those series {result['mape_powerlens_on_those']:.2%} vs {result['mape_autoarima']:.2%}")
    typer.echo(forecast_summary_line(result))


@app.command()
@friendly
def segment(
    features_dir: Annotated[Path | None, typer.Option("--features", help="features folder (default data/features)")] = None,
    data: Annotated[Path | None, typer.Option(help="clean data folder, for the load shapes (default data/clean)")] = None,
    out: Annotated[Path | None, typer.Option(help="segments folder (default data/segments)")] = None,
    engine: Annotated[str | None, typer.Option(help="local or dask (default: params segment.engine)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: $POWERLENS_DASK_SCHEDULER, "
             "else a LocalCluster on this machine)")] = None,
):
    """Value x credit tiers, big and latent big customers, load-shape clusters (the look-back read
    a partition of customers at a time, in this process or as Dask tasks with --engine dask)."""
    from powerlens.jobs import segment as job

    paths = _paths()
    settings = _config().replace("segment", **({"engine": engine} if engine else {})).segment
    job.run(settings, features_dir=features_dir or paths.features, data=data or paths.clean,
            out=out or paths.segments, scheduler=scheduler)


@app.command()
@friendly
def train(
    task: Annotated[str, typer.Argument(help="churn, arrears, theft or a task the source labels (e.g. acorn_group)")],
    data: Annotated[Path | None, typer.Option(help="clean data folder (default data/clean)")] = None,
    features_dir: Annotated[Path | None, typer.Option("--features", help="features folder (default data/features)")] = None,
    experiment: Annotated[str | None, typer.Option(help="MLflow experiment (default powerlens-risk)")] = None,
    search_seconds: Annotated[float | None, typer.Option(
        help="search by time: seconds per family, as many trials as fit, under cross-validation too "
             "(default: train.search.n_trials, reproducible; 0 = no search)")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for the run's metrics.json (default runs/train/TASK)")] = None,
):
    """Train and compare model families for a task; register the best and apply the
    champion rule. Prints the run id, each family's primary metric and the decision."""
    from powerlens.errors import PowerlensError
    from powerlens.jobs import train as job
    from powerlens.rules import RISK_EXPERIMENT

    paths = _paths()
    out = out or paths.runs / "train" / task
    summary = job.run(task, _config(), data=data or paths.clean, features_dir=features_dir or paths.features,
                      out=out, experiment=experiment or RISK_EXPERIMENT, search_seconds=search_seconds)
    if "skipped" in summary:
        raise PowerlensError(f"{task} was not trained: {summary['skipped']}")
    primary = summary["primary_metric"]
    for family, m in summary["families"].items():
        typer.echo(f"{family}: {primary} {m.get(primary, float('nan')):.4f}")
    typer.echo(f"run id: {summary['run_id']}")
    typer.echo(f"decision: {summary['decision']}")
    typer.echo(f"summary in {out / 'metrics.json'}")


@app.command()
@friendly
def score(
    task: Annotated[str | None, typer.Argument(help="one task (with --data, --out); all tasks' champions when omitted")] = None,
    data: Annotated[Path | None, typer.Option(help="a clean (imported) data folder to score")] = None,
    model: Annotated[str | None, typer.Option(help="model URI (default models:/powerlens-TASK@champion)")] = None,
    out: Annotated[Path | None, typer.Option(help="CSV to write (one task) or scores folder (all tasks; default runs/score)")] = None,
    features_dir: Annotated[Path | None, typer.Option("--features", help="features folder, all tasks (default data/features)")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="with --data: score as of this date, YYYY-MM-DD (default: the data's end, else the "
                        "date its source describes)")] = None,
):
    """Score accounts with champion models, with reason codes. `score TASK --data DIR --out F.csv`
    scores any imported data folder (customers whose outcome is unknown too) at its latest date
    or --as-of, and refuses data whose features do not match the model."""
    from powerlens.errors import UsageError
    from powerlens.jobs import score as job

    paths = _paths()
    if task is None:
        if as_of is not None or data is not None:
            raise UsageError("--data and --as-of score one task: powerlens score TASK --data DIR --out F.csv")
        out = out or paths.runs / "score"
        job.run(_config(), features_dir=features_dir or paths.features, out=out)
        typer.echo(f"scores in {out}")
        return
    if data is None or out is None:
        raise UsageError("score TASK needs --data DIR and --out FILE.csv")
    n = job.score_folder(task, _config(), data=data, out=out, model_uri=model, as_of=as_of)
    typer.echo(f"wrote {n} scores to {out}")


@app.command()
@friendly
def forecast(
    data: Annotated[Path | None, typer.Option(help="an imported data folder with region_load and weather (default data/clean)")] = None,
    origin: Annotated[list[str] | None, typer.Option(help="YYYY-MM-DD, repeatable: the forecast reads only the load before it")] = None,
    horizon_hours: Annotated[int | None, typer.Option(help="hourly forecast per region and total, 1-336 hours")] = None,
    horizon_months: Annotated[int | None, typer.Option(help="monthly energy and peak per region and total, 1-12 months")] = None,
    weather: Annotated[str, typer.Option(help="given: weather_hourly after the origin is the weather forecast; "
                                             "scenario: past years' weather (ex-ante)")] = "scenario",
    out: Annotated[Path | None, typer.Option(help="CSV to write")] = None,
):
    """Load forecasts per region and total, coherent (the regions add up to the total), with 80%
    intervals: hourly (region, ts, forecast, lo_80, hi_80, origin) or monthly (region, month,
    energy, energy_lo_80, energy_hi_80, peak, peak_lo_80, peak_hi_80). docs/forecasting.md."""
    from powerlens.errors import UsageError
    from powerlens.jobs.forecast import forecast_command

    if out is None:
        raise UsageError("give --out FILE.csv")
    n = forecast_command(_config(), data=data or _paths().clean, origins=origin or [], out=out,
                         horizon_hours=horizon_hours, horizon_months=horizon_months, weather=weather)
    typer.echo(f"wrote {n} rows to {out}")


@app.command()
@friendly
def compare(
    task: Annotated[str | None, typer.Argument(help="churn, arrears, theft or a given-label task")] = None,
    experiment: Annotated[str | None, typer.Option(help="MLflow experiment (default powerlens-risk)")] = None,
    out: Annotated[Path | None, typer.Option(help="also write the table to this CSV")] = None,
    experiments: Annotated[bool, typer.Option("--experiments", help="DVC experiments instead: one row each, "
                                              "the params that differ from the baseline, each task's headline metrics")] = False,
):
    """The families x metrics table of the task's latest training run (printed; --out writes
    it too, never into the pipeline's own outputs); --experiments: the DVC experiments side by side."""
    from powerlens import tracking
    from powerlens.rules import RISK_EXPERIMENT

    if experiments:
        from powerlens import experiments as exps

        typer.echo(exps.render(exps.exp_show_json(_paths().root)))
        return
    if task is None:
        raise typer.BadParameter("give a TASK, or --experiments")
    table = tracking.latest_comparison(task, experiment or RISK_EXPERIMENT)
    typer.echo(f"{task}: latest run {table.attrs['run_id']}")
    typer.echo(table.round(4).to_string())
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out)
        typer.echo(f"written to {out}")


@app.command()
@friendly
def snapshot(
    period: Annotated[list[str] | None, typer.Option(help="YYYY-MM, repeatable (default: params report.periods)")] = None,
):
    """Compute what the report of each period shows into data/snapshots/<period>/ (the
    pipeline's snapshot stage, for periods params.yaml does not list)."""
    from powerlens.jobs import snapshot as job

    cfg, paths = _config(), _paths()
    job.run(list(period or cfg.report.periods), cfg, data=paths.data_paths, playbook=paths.playbook)


@app.command()
@friendly
def report(
    period: Annotated[str | None, typer.Option(help="YYYY-MM (default: the last of report.periods in params.yaml)")] = None,
    start: Annotated[str | None, typer.Option("--from", help="backfill: first period YYYY-MM")] = None,
    end: Annotated[str | None, typer.Option("--to", help="backfill: last period YYYY-MM")] = None,
    region: Annotated[str | None, typer.Option(help="one region only")] = None,
    language: Annotated[str | None, typer.Option(
        help="en or zh (default: report.language in params.yaml); other than en writes strategy_report.<language>.html")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="also print the report to an A4 PDF beside the HTML (needs Chromium)")] = False,
    workers: Annotated[int, typer.Option(min=1, help="periods rendered at once (backfill)")] = 2,
):
    """Render the strategy report for a period into reports/<period>/strategy_report.html (or
    strategy_report.<language>.html), or every period from --from to --to (a failing period does
    not stop the others); reports/index.html is the landing page of them all. Each period is
    shown as of its own end, from its snapshot (data/snapshots/<period>/), computed first when
    it does not exist yet."""
    from powerlens.errors import UsageError
    from powerlens.jobs import report as job
    from powerlens.rules import periods_between

    cfg, paths = _config(), _paths()
    if pdf:
        from powerlens.report.rendering import chromium_path

        chromium_path()  # no Chromium: say so before any work
    if start or end:
        if not (start and end):
            raise UsageError("a backfill needs both --from and --to")
        if period:
            raise UsageError("--period renders one period, --from/--to a range: give one or the other")
        result = job.run_range(periods_between(start, end), cfg, paths, region=region, workers=workers,
                               echo=typer.echo, language=language, pdf=pdf)
        typer.echo(result.summary())
        raise typer.Exit(0 if result.ok else 1)
    job.run(period or cfg.report.period, cfg, paths, region=region, language=language, pdf=pdf, echo=typer.echo)


@app.command()
@friendly
def results(
    metrics: Annotated[Path | None, typer.Option(help="DVC metrics folder (default metrics/)")] = None,
    out: Annotated[Path | None, typer.Option(help="markdown file to write (default docs/results.md)")] = None,
):
    """Write the results tables (models per task, segmentation) from the DVC metrics files, so
    docs never carry numbers typed by hand."""
    from powerlens.results import write_results

    written = write_results(metrics or _paths().metrics, out or _paths().root / "docs" / "results.md")
    typer.echo(f"wrote {written}")


@app.command()
@friendly
def ui(
    port: Annotated[int, typer.Option(help="port")] = 5000,
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
):
    """Open the MLflow UI on the project's store (127.0.0.1, one worker)."""
    from powerlens.tracking import tracking_uri

    uri = tracking_uri()
    if uri.startswith(("http://", "https://")):
        typer.echo(f"MLFLOW_TRACKING_URI is a tracking server: its UI is at {uri}")
        return
    typer.echo(f"MLflow UI for {uri} at http://{host}:{port} (Ctrl-C to stop)")
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host", host,
           "--port", str(port), "--workers", "1"]
    if uri.startswith("sqlite:"):
        cmd += ["--default-artifact-root", _paths().mlartifacts.as_uri()]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    raise typer.Exit(subprocess.call(cmd, env=env))


@app.command()
@friendly
def server(
    store: Annotated[Path, typer.Option(help="folder of the server's PostgreSQL data, artifacts and logs")] = Path("mlflow-server"),
    port: Annotated[int, typer.Option(help="tracking server port")] = 5000,
    host: Annotated[str, typer.Option(help="tracking server bind address (0.0.0.0 to serve the network)")] = "127.0.0.1",
    db_port: Annotated[int, typer.Option(help="PostgreSQL port (on 127.0.0.1 only)")] = 5432,
    backend_store_uri: Annotated[str | None, typer.Option(
        help="your team's own database (postgresql://USER:PASSWORD@HOST:PORT/DB): no PostgreSQL is started")] = None,
):
    """The team's MLflow tracking server: PostgreSQL (started here unless --backend-store-uri)
    and `mlflow server` with served artifacts. Prints the MLFLOW_TRACKING_URI to set; Ctrl-C or
    SIGTERM stops both. See docs/operations.md, "Team mode"."""
    from powerlens.server import ServerSettings, serve

    settings = ServerSettings(store=store, host=host, port=port, db_port=db_port,
                              backend_store_uri=backend_store_uri or os.environ.get("POWERLENS_BACKEND_STORE_URI"))
    raise typer.Exit(serve(settings, echo=lambda m: typer.echo(m)))


@app.command()
@friendly
def lab(
    port: Annotated[int, typer.Option(help="port")] = 8888,
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
):
    """Start JupyterLab on 127.0.0.1 with the project's kernel."""
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    cmd = [jupyter, "lab", f"--ip={host}", f"--port={port}", "--no-browser", f"--notebook-dir={_paths().root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    raise typer.Exit(subprocess.call(cmd, env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}))


if __name__ == "__main__":
    app()
