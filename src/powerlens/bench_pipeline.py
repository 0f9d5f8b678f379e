"""`powerlens bench pipeline`: the whole pipeline at several sizes of the synthetic utility,
seconds and peak memory per stage and size, and how time grows with the number of customers.

Each size gets its own project folder under `data/bench/pipeline/<customers>/`: this project's
params.yaml (with `generate.customers` and, when asked, `generate.months` set), playbook,
pipelines and report notebook, its own data and MLflow store. The stages run one after another
in dvc.yaml's order (`foreach` stages once per item) as DVC would run them (`python
pipelines/<stage>.py [item]` in the project folder), each timed with its peak resident memory:
the sum over the stage's process tree (its worker processes included), polled every 0.1 s.

The growth exponent is the slope of log(seconds) against log(customers), least squares over the
sizes: 1 is linear, 2 quadratic. The last line is machine-readable:
`customers=N seconds=S peak_rss_mb=M growth_exponent=E` for the largest size (S the pipeline's
seconds, M the largest stage peak, E the whole pipeline's exponent over all sizes).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

from powerlens.errors import InvalidInput, UsageError

PROJECT_FILES = ("params.yaml", "playbook.yaml", "dvc.yaml")
PROJECT_FOLDERS = ("pipelines", "notebooks/reports")


def pipeline_stages(dvc_file: Path, params: dict) -> list[tuple[str, str]]:
    """(stage name, command) in dvc.yaml's order; a `foreach` stage once per item of the params
    list it names (`train@churn`, `snapshot@2026-10`...)."""
    stages = yaml.safe_load(Path(dvc_file).read_text())["stages"]
    out = []
    for name, stage in stages.items():
        if "foreach" in stage:
            items = stage["foreach"]
            if isinstance(items, str):
                key = re.fullmatch(r"\$\{(.+)\}", items.strip())
                items = params
                for part in (key.group(1) if key else items).split("."):
                    items = items[part]
            for item in items:
                out.append((f"{name}@{item}", stage["do"]["cmd"].replace("${item}", str(item))))
        else:
            out.append((name, stage["cmd"]))
    return out


def prepare_project(source: Path, folder: Path, customers: int, months: int | None) -> dict:
    """The size's project folder (params.yaml with the size set); its params."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copy2(source / name, folder / name)
    for name in PROJECT_FOLDERS:
        target = folder / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source / name, target)
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params["generate"]["customers"] = int(customers)
    if months is not None:
        params["generate"]["months"] = int(months)
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return params


def run_stage(command: str, cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak resident MB of the stage's process tree, the output's last lines)."""
    import psutil

    log = cwd / "bench_stage.log"
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, *command.split()[1:]] if command.startswith("python ") else command,
                                cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, shell=not command.startswith("python "))
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)
    seconds = time.perf_counter() - start
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
    if proc.returncode != 0:
        raise InvalidInput(f"the stage `{command}` failed in {cwd} (exit {proc.returncode}): {tail.splitlines()[-1] if tail else ''}")
    return seconds, peak / 2**20, tail


def growth_exponent(customers: list[int], seconds: list[float]) -> float:
    """The slope of log(seconds) on log(customers) (NaN with fewer than two sizes)."""
    x, y = np.log(np.asarray(customers, dtype=float)), np.log(np.maximum(np.asarray(seconds, dtype=float), 1e-3))
    if len(x) < 2 or np.ptp(x) == 0:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def bench_pipeline(sizes: list[int], root: Path, source: Path, months: int | None = None,
                   stages: list[str] | None = None, progress: Callable[[str], None] = print) -> dict:
    """Every size through the pipeline (or the `stages` named, by stage or `stage@item`); the
    table and the exponents (see the module)."""
    if not sizes or any(n < 1 for n in sizes):
        raise UsageError("--customers takes whole numbers above 0, e.g. 10000,25000,50000")
    sizes = sorted(set(int(n) for n in sizes))
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", PYTHONUNBUFFERED="1")
    env.pop("MLFLOW_TRACKING_URI", None)  # each size's own store
    rows = []
    for n in sizes:
        folder = Path(root) / str(n)
        params = prepare_project(source, folder, n, months)
        plan = pipeline_stages(folder / "dvc.yaml", params)
        if stages:
            unknown = [s for s in stages if not any(s in (name, name.split("@")[0]) for name, _ in plan)]
            if unknown:
                raise UsageError(f"--stages: no stage {unknown[0]} in dvc.yaml (stages: "
                                 f"{', '.join(dict.fromkeys(name.split('@')[0] for name, _ in plan))})")
            plan = [(name, cmd) for name, cmd in plan if name in stages or name.split("@")[0] in stages]
        for name, command in plan:
            progress(f"{n:,} customers: {name}")
            seconds, peak_mb, _ = run_stage(command, folder, env)
            rows.append({"customers": n, "stage": name, "seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb)})
            progress(f"{n:,} customers: {name} {seconds:.1f} s, peak {peak_mb:,.0f} MB")
    names = list(dict.fromkeys(r["stage"] for r in rows))
    exponents = {name: growth_exponent([r["customers"] for r in rows if r["stage"] == name],
                                       [r["seconds"] for r in rows if r["stage"] == name]) for name in names}
    totals = {n: round(sum(r["seconds"] for r in rows if r["customers"] == n), 1) for n in sizes}
    peaks = {n: max(r["peak_rss_mb"] for r in rows if r["customers"] == n) for n in sizes}
    result = {"sizes": sizes, "months": months or params["generate"]["months"], "rows": rows,
              "exponents": {k: round(v, 2) for k, v in exponents.items()},
              "total_seconds": totals, "peak_rss_mb": peaks,
              "total_exponent": round(growth_exponent(sizes, [totals[n] for n in sizes]), 2)}
    (Path(root) / "results.json").write_text(json.dumps(result, indent=2))
    return result


def pipeline_table(result: dict) -> str:
    """Seconds (peak MB) per stage and size, with each stage's growth exponent (Markdown)."""
    sizes = result["sizes"]
    head = "| stage | " + " | ".join(f"{n:,}" for n in sizes) + " | exponent |"
    lines = [head, "|---" * (len(sizes) + 2) + "|"]
    by = {(r["stage"], r["customers"]): r for r in result["rows"]}
    for stage, exponent in result["exponents"].items():
        cells = [f"{by[stage, n]['seconds']} s ({by[stage, n]['peak_rss_mb']:,} MB)" if (stage, n) in by else "–"
                 for n in sizes]
        lines.append(f"| {stage} | " + " | ".join(cells) + f" | {exponent} |")
    lines.append("| **total** | " + " | ".join(f"{result['total_seconds'][n]} s ({result['peak_rss_mb'][n]:,} MB peak)"
                                             for n in sizes) + f" | {result['total_exponent']} |")
    return "\n".join(lines)


def pipeline_summary_line(result: dict) -> str:
    n = max(result["sizes"])
    return (f"customers={n} seconds={result['total_seconds'][n]} peak_rss_mb={result['peak_rss_mb'][n]} "
            f"growth_exponent={result['total_exponent']}")
