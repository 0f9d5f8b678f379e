"""The `powerlens` command. Every subcommand has --help; known problems end in a one-line
message and exit code 2, never a stack trace (set POWERLENS_DEBUG=1 to see one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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

DATA = Path("data")


def _known_errors() -> tuple[type[BaseException], ...]:
    from powerlens.anonymize import PseudonymKeyError
    from powerlens.importers import ImportFailed
    from powerlens.schema import ValidationFailed

    errors: list[type[BaseException]] = [ImportFailed, ValidationFailed, PseudonymKeyError,
                                         FileNotFoundError, ValueError, KeyError]
    try:
        from powerlens.reporting import ReportFailed

        errors.append(ReportFailed)
    except ImportError:
        pass
    return tuple(errors)


def friendly(fn):
    """Turn known failures into one line on stderr and exit code 2."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as exc:
            if os.environ.get("POWERLENS_DEBUG"):
                raise
            known = isinstance(exc, _known_errors())
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            prefix = "error" if known else f"unexpected error ({type(exc).__name__})"
            typer.echo(f"{prefix}: {message}", err=True)
            if not known:
                typer.echo("rerun with POWERLENS_DEBUG=1 to see the traceback", err=True)
            raise typer.Exit(2 if known else 1) from None

    return wrapper


def _params() -> dict:
    from powerlens.stages import params

    return params()


@app.command()
@friendly
def generate(
    out: Annotated[Path, typer.Option(help="folder for the raw export")] = DATA / "raw",
    customers: Annotated[int, typer.Option(min=10, help="number of accounts")] = 10_000,
    months: Annotated[int, typer.Option(min=13, help="months of history")] = 36,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same utility)")] = 42,
    end: Annotated[str, typer.Option(help="first day after the data (YYYY-MM-DD)")] = "2026-11-01",
):
    """Write the raw export of the embedded synthetic utility (with direct identifiers, as a
    real export would carry them) and its ground truth."""
    from powerlens import stages

    stages.generate(out, customers, months, seed, end)


@app.command()
@friendly
def validate(
    src: Annotated[Path, typer.Argument(help="raw export folder (customers, readings, bills, ...)")] = DATA / "raw",
    out: Annotated[Path, typer.Option(help="folder for the canonical tables")] = DATA / "clean",
    key_file: Annotated[str | None, typer.Option(help="pseudonym key (default: $POWERLENS_KEY_FILE or ~/.config/powerlens/pseudonym.key)")] = None,
    max_reject_fraction: Annotated[float, typer.Option(help="fail when more rows than this share are quarantined")] = 0.05,
    truth_out: Annotated[Path | None, typer.Option(help="where to write the generator's ground truth, if any")] = None,
):
    """Anonymize and validate an export: one line per problem, bad rows quarantined with their
    reason, counts reconciled."""
    from powerlens import stages

    summary = stages.validate(src, out, key_file, max_reject_fraction, truth_out)
    typer.echo(f"canonical tables in {out}; quarantine in {out / 'quarantine'}; summary in {out / 'validation.json'}")
    if not summary["reconciled"]:
        raise typer.Exit(2)


@app.command("import")
@friendly
def import_(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="lcl, powerco, credit-history, csv or synthetic")],
    src: Annotated[Path, typer.Argument(help="source file or folder")],
    out: Annotated[Path, typer.Option(help="folder for the canonical tables")] = DATA / "clean",
    key_file: Annotated[str | None, typer.Option(help="pseudonym key (default: $POWERLENS_KEY_FILE or ~/.config/powerlens/pseudonym.key)")] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML column mapping (csv format)")] = None,
    max_reject_fraction: Annotated[float, typer.Option(help="fail (exit 2) when more rows than this share are quarantined")] = 0.05,
):
    """Import a real source into anonymized canonical tables, with quarantine and a summary."""
    import json

    from powerlens import stages

    summary = stages.validate(src, out, key_file, max_reject_fraction, fmt=fmt, mapping=mapping)
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
    from powerlens.anonymize import key_path, pseudonym

    path = key_path(key_file)
    if not path.exists():
        raise FileNotFoundError("no pseudonym key at the given path: pass --key-file or set POWERLENS_KEY_FILE")
    key = path.read_text(encoding="ascii").strip().encode("ascii")
    for line in sys.stdin:
        raw = line.strip()
        if raw:
            typer.echo(f"{raw},{pseudonym(key, raw)}")


@app.command()
@friendly
def features(
    data: Annotated[Path, typer.Option(help="clean data folder")] = DATA / "clean",
    out: Annotated[Path, typer.Option(help="features folder")] = DATA / "features",
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
    from powerlens import stages

    params = _params()["features"]
    if customers_per_partition:
        params = params | {"customers_per_partition": customers_per_partition}
    if threads:
        params = params | {"threads": threads}
    stages.features(data, out, params, engine=engine, scheduler=scheduler)


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
    data_dir: Annotated[Path, typer.Option(help="where generated benchmark data are kept")] = DATA / "bench",
    regenerate: Annotated[bool, typer.Option(help="generate the data again")] = False,
):
    """Feature-engine speed and memory on generated readings: readings/s, peak RSS, the ratio to a
    DuckDB GROUP BY scan of the same parquet and the speed-up over tsfresh (MinimalFCParameters).
    The last line is machine-readable."""
    from powerlens.bench import bench_features as run
    from powerlens.bench import summary_line
    from powerlens.stages import Clock

    clock = Clock("bench")
    result = run(customers, days, interval, data_dir, engine=engine, customers_per_partition=customers_per_partition,
                 tsfresh_sample=tsfresh_sample, regenerate=regenerate, threads=threads, progress=clock)
    typer.echo(f"{result['readings']:,} {interval} readings, {result['features']} features: "
               f"{result['readings_per_s']:,} readings/s ({result['seconds']} s), "
               f"{result['ratio_vs_scan']}x the DuckDB scan floor ({result['scan_seconds']} s), "
               f"{result['speedup_vs_tsfresh']}x tsfresh ({result['tsfresh_readings_per_s']:,} readings/s), "
               f"peak RSS {result['peak_rss_mb']} MB")
    typer.echo(summary_line(result))


@app.command()
@friendly
def segment(
    features_dir: Annotated[Path, typer.Option("--features", help="features folder")] = DATA / "features",
    out: Annotated[Path, typer.Option(help="segments folder")] = DATA / "segments",
):
    """Value x credit tiers, big and latent big customers, load-shape clusters."""
    from powerlens import stages

    stages.segment(features_dir, out, _params()["segment"])


@app.command()
@friendly
def train(
    task: Annotated[str, typer.Argument(help="churn, arrears, theft or a task the source labels (e.g. acorn_group)")],
    data: Annotated[Path, typer.Option(help="clean data folder")] = DATA / "clean",
    features_dir: Annotated[Path, typer.Option("--features", help="features folder")] = DATA / "features",
    experiment: Annotated[str, typer.Option(help="MLflow experiment")] = "powerlens-risk",
    search_seconds: Annotated[float | None, typer.Option(
        help="search by time: seconds per family, as many trials as fit, under cross-validation too "
             "(default: train.search.n_trials, reproducible; 0 = no search)")] = None,
):
    """Train and compare model families for a task; register the best and apply the
    champion rule. Prints the run id, each family's primary metric and the decision."""
    from powerlens import stages

    p = _params()
    tp = dict(p["train"])
    if search_seconds is not None:
        from powerlens.risk.search import by_time

        tp["search"] = by_time(tp.get("search") or {}, search_seconds)
    summary = stages.train(task, data, features_dir, features_dir.parent / "models" / task, tp,
                           p["features"]["horizon_months"], experiment=experiment)
    if "skipped" in summary:
        raise ValueError(f"{task} was not trained: {summary['skipped']}")
    primary = summary["primary_metric"]
    for family, m in summary["families"].items():
        typer.echo(f"{family}: {primary} {m.get(primary, float('nan')):.4f}")
    typer.echo(f"run id: {summary['run_id']}")
    typer.echo(f"decision: {summary['decision']}")


@app.command()
@friendly
def score(
    task: Annotated[str | None, typer.Argument(help="one task (with --data, --out); all tasks' champions when omitted")] = None,
    data: Annotated[Path | None, typer.Option(help="a clean (imported) data folder to score")] = None,
    model: Annotated[str | None, typer.Option(help="model URI (default models:/powerlens-TASK@champion)")] = None,
    out: Annotated[Path | None, typer.Option(help="CSV to write (one task) or scores folder (all tasks)")] = None,
    features_dir: Annotated[Path, typer.Option("--features", help="features folder (all tasks)")] = DATA / "features",
):
    """Score accounts with champion models, with reason codes. `score TASK --data DIR --out F.csv`
    scores any imported data folder at its latest date and refuses data whose features do not
    match the model."""
    from powerlens import stages

    if task is None:
        stages.score(features_dir, out or DATA / "scores", _params()["train"]["tasks"])
        return
    if data is None or out is None:
        raise ValueError("score TASK needs --data DIR and --out FILE.csv")
    n = stages.score_folder(task, data, out, model, _params()["features"])
    typer.echo(f"wrote {n} scores to {out}")


@app.command()
@friendly
def compare(
    task: Annotated[str, typer.Argument(help="churn, arrears, theft or a given-label task")],
    experiment: Annotated[str, typer.Option(help="MLflow experiment")] = "powerlens-risk",
    out: Annotated[Path | None, typer.Option(help="CSV for the report (default data/models/TASK/comparison.csv)")] = None,
):
    """The families x metrics table of the task's latest training run."""
    from powerlens import tracking

    table = tracking.latest_comparison(task, experiment)
    typer.echo(f"{task}: latest run {table.attrs['run_id']}")
    typer.echo(table.round(4).to_string())
    out = out or DATA / "models" / task / "comparison.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out)
    typer.echo(f"written to {out}")


@app.command()
@friendly
def report(
    period: Annotated[str | None, typer.Option(help="YYYY-MM (default: report.period in params.yaml)")] = None,
    start: Annotated[str | None, typer.Option("--from", help="backfill: first period YYYY-MM")] = None,
    end: Annotated[str | None, typer.Option("--to", help="backfill: last period YYYY-MM")] = None,
    region: Annotated[str | None, typer.Option(help="one region only")] = None,
    data: Annotated[Path, typer.Option(help="data root (clean/, features/, segments/, scores/)")] = DATA,
    out: Annotated[Path, typer.Option(help="reports root")] = Path("reports"),
    workers: Annotated[int, typer.Option(min=1, help="periods rendered at once (backfill)")] = 2,
):
    """Render the strategy report for a period into reports/<period>/strategy_report.html, or
    every period from --from to --to (a failing period does not stop the others). Each period
    is shown as of its own end; what a render computes for it is kept in DATA/report_cache."""
    from powerlens import stages

    p = _params()["report"]
    if start or end:
        from powerlens.reporting import backfill

        if not (start and end):
            raise ValueError("a backfill needs both --from and --to")
        result = backfill(start, end, data_dir=data, out_root=out, region=region, top_n=p["top_n"],
                          min_group_size=p["min_group_size"], workers=workers, progress=typer.echo)
        typer.echo(result.summary())
        raise typer.Exit(0 if result.ok else 1)
    stages.report(period or p["period"], data, out, region, p["top_n"], p["min_group_size"])


@app.command()
@friendly
def ui(
    port: Annotated[int, typer.Option(help="port")] = 5000,
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
):
    """Open the MLflow UI on the project's store (127.0.0.1, one worker)."""
    from powerlens.tracking import tracking_uri

    uri = tracking_uri()
    typer.echo(f"MLflow UI for {uri} at http://{host}:{port} (Ctrl-C to stop)")
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host", host,
           "--port", str(port), "--workers", "1"]
    if uri.startswith("sqlite:"):
        from powerlens.config import project_root

        cmd += ["--default-artifact-root", (project_root() / "mlartifacts").as_uri()]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    raise typer.Exit(subprocess.call(cmd, env=env))


@app.command()
@friendly
def lab(
    port: Annotated[int, typer.Option(help="port")] = 8888,
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
):
    """Start JupyterLab on 127.0.0.1 with the project's kernel."""
    from powerlens.config import project_root

    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    cmd = [jupyter, "lab", f"--ip={host}", f"--port={port}", "--no-browser",
           f"--notebook-dir={project_root()}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    raise typer.Exit(subprocess.call(cmd, env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}))


if __name__ == "__main__":
    app()
