"""Periodic strategy reports: papermill runs the report notebook, nbconvert makes offline HTML.

`render` executes notebooks/reports/strategy_report.py (a jupytext notebook) for one period
(and optionally one region) into reports/<period>[/<region>]/ with the executed notebook, an
HTML page without code that reads fully offline, and the action plan as actions.csv, then
refreshes reports/index.html. `backfill` renders a range of periods in parallel worker
processes; a failing period does not stop the others. Outputs are only rewritten when their
content changes, so re-rendering an unchanged period changes nothing.

Every period is shown as it was at its end (`period_state`): features, segments, risk scores
and the action plan at that cut-off from data strictly before it, the previous period's
snapshot for migration, drift and the review of its plan against what happened since. The
stages' outputs are used where they are for that cut-off; the rest is computed here with the
stages' own functions and kept in <data>/report_cache/ so later renders reuse it. The other
functions compute what the notebook presents, so the notebook holds presentation only; every
loader returns None when an input is missing.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from powerlens import strategy
from powerlens.config import project_root
from powerlens.segmentation.value import pareto  # noqa: F401  (the notebook calls reporting.pareto)

REPORT_NAME = "strategy_report"
DEFAULT_NOTEBOOK = Path("notebooks/reports/strategy_report.py")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# The lab template without anything fetched from the network: require.js, MathJax, mermaid
# and the widget manager are CDN scripts; the report needs none of them (plots are PNGs,
# tables are HTML). The lab CSS is inlined by the template itself.
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}" alt="{{ (output | get_metadata('alt', 'image/png')) or 'figure' | escape_html }}">
</div>
{%- endblock data_png %}
"""


class ReportFailed(RuntimeError):
    """The report notebook failed; `notebook` is the kept executed notebook showing the error."""

    def __init__(self, message: str, notebook: Path):
        super().__init__(f"{message} (executed notebook kept at {notebook})")
        self.notebook = notebook


# --------------------------------------------------------------------------- rendering


def period_bounds(period: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day of the period and first day of the next one (the exclusive end)."""
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise ValueError(f"period must look like 'YYYY-MM', got {period!r}")
    p = pd.Period(period, freq="M")
    return p.start_time, (p + 1).start_time


def report_dir(out_root: Path, period: str, region: str | None = None) -> Path:
    """reports/<period>/ or reports/<period>/<region>/ (region made file-name safe)."""
    period_bounds(period)
    out = Path(out_root) / period
    return out / _slug(region) if region else out


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("._")
    if not slug:
        raise ValueError(f"region {text!r} has no usable characters for a folder name")
    return slug


def render(
    period: str,
    data_dir: Path,
    out_root: Path = Path("reports"),
    region: str | None = None,
    top_n: int = 20,
    min_group_size: int = 10,
    notebook: Path = DEFAULT_NOTEBOOK,
    playbook: Path = Path("playbook.yaml"),
    update_index: bool = True,
    params: Path = Path("params.yaml"),
) -> Path:
    """Execute the report notebook for a period (and region); return the HTML path.

    Relative paths are taken from the project root, where the notebook also runs. Writes
    strategy_report.ipynb, strategy_report.html and actions.csv (the notebook's action plan)
    into report_dir(...) (each only when its content changed: run timestamps are left out of
    the executed notebook), then refreshes <out_root>/index.html unless update_index is False.
    On failure the executed notebook is kept as strategy_report.failed.ipynb (a previous good
    report is left untouched) and ReportFailed is raised.
    """
    import jupytext
    import nbformat
    import papermill as pm

    root = project_root()
    data_dir, out_root, notebook, playbook, params = (
        Path(p) if Path(p).is_absolute() else root / p
        for p in (data_dir, out_root, notebook, playbook, params)
    )
    out_dir = report_dir(out_root, period, region)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not Path(notebook).exists():
        raise FileNotFoundError(f"report notebook not found: {notebook}")

    nb = jupytext.read(notebook)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nb.metadata.setdefault("kernelspec", {"name": "python3", "language": "python",
                                          "display_name": "Python 3 (ipykernel)"})
    nb.metadata["title"] = f"Strategy report {period}" + (f" — {region}" if region else "")
    parameters = {
        "period": period,
        "data_dir": str(data_dir),
        "region": region,
        "top_n": int(top_n),
        "min_group_size": int(min_group_size),
        "playbook_path": str(playbook),
        "params_path": str(params),
        "actions_out": str(out_dir / "actions.running.csv"),
        "cache_dir": str(data_dir / "report_cache"),
    }
    running = out_dir / f"{REPORT_NAME}.running.ipynb"
    failed = out_dir / f"{REPORT_NAME}.failed.ipynb"
    staged_actions = Path(parameters["actions_out"])
    staged_actions.unlink(missing_ok=True)
    try:
        pm.execute_notebook(
            nb,
            str(running),
            parameters=parameters,
            kernel_name="python3",
            language="python",
            cwd=str(root),
            progress_bar=False,
        )
    except Exception as exc:
        if not running.exists():
            raise
        running.replace(failed)
        staged_actions.unlink(missing_ok=True)
        detail = getattr(exc, "ename", type(exc).__name__)
        evalue = getattr(exc, "evalue", str(exc))
        raise ReportFailed(f"report {period} failed: {detail}: {evalue}", failed) from exc
    executed_path = out_dir / f"{REPORT_NAME}.ipynb"
    executed = _without_run_metadata(nbformat.read(running, as_version=4), executed_path)
    _write_if_changed(executed_path, nbformat.writes(executed) + "\n")
    running.unlink()
    failed.unlink(missing_ok=True)

    html_path = out_dir / f"{REPORT_NAME}.html"
    _write_if_changed(html_path, to_offline_html(executed))

    if staged_actions.exists():  # the plan the notebook showed, written by the notebook
        actions_text = staged_actions.read_text(encoding="utf-8")
        staged_actions.unlink()
    else:  # a notebook that does not write its plan: compute it here
        actions_text = action_plan(data_dir, period, region=region, playbook_path=playbook,
                                   params=params).to_csv(index=False)
    _write_if_changed(out_dir / "actions.csv", actions_text)
    if update_index:
        write_index(out_root)
    return html_path


def _write_if_changed(path: Path, text: str) -> bool:
    """Write text unless the file already holds it (an unchanged report keeps its mtime)."""
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


_RUN_KEYS = ("start_time", "end_time", "duration")


def _without_run_metadata(nb: Any, output_path: Path) -> Any:
    """The executed notebook without what differs between two runs of the same inputs:
    timestamps and durations (papermill, nbclient), random cell ids and the temporary path."""
    meta = nb.metadata.get("papermill", {})
    for key in (*_RUN_KEYS, "environment_variables"):
        meta.pop(key, None)
    if meta:
        meta["output_path"] = str(output_path)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        cell.metadata.pop("execution", None)
        for key in _RUN_KEYS:
            cell.metadata.get("papermill", {}).pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = _coalesced(cell.get("outputs", []))
    return nb


def _coalesced(outputs: list[Any]) -> list[Any]:
    """Consecutive prints of a cell as one stream output: how the kernel happens to flush
    them (one message or several) depends on timing, and must not change the report."""
    merged: list[Any] = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = prev["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def to_offline_html(nb: Any) -> str:
    """HTML without code, prompts or stderr, and without any network asset."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = _copy_without_stderr(nb)
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"powerlens_offline.html.j2": _OFFLINE_TEMPLATE})],
        template_file="powerlens_offline.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        mathjax_url="",
        require_js_url="",
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": REPORT_NAME}})
    # CSS comments of the lab theme cite URLs; drop them so the page holds no URL at all
    return re.sub(r"<style([^>]*)>(.*?)</style>",
                  lambda m: f"<style{m.group(1)}>{re.sub(r'/[*].*?[*]/', '', m.group(2), flags=re.S)}</style>",
                  body, flags=re.S)


def _copy_without_stderr(nb: Any) -> Any:
    """A copy without stderr streams and with stable cell ids."""
    import copy

    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # jupytext / papermill ids are random: keep the HTML stable
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    return nb


def write_index(out_root: Path) -> Path:
    """Rewrite <out_root>/index.html listing every rendered period and region."""
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    rows = []
    periods = sorted(
        (d for d in out_root.iterdir() if d.is_dir() and _PERIOD.match(d.name)),
        key=lambda d: d.name, reverse=True,
    )
    for pdir in periods:
        links = []
        if (pdir / f"{REPORT_NAME}.html").exists():
            links.append(_index_link(f"{pdir.name}/{REPORT_NAME}.html", "all regions", pdir))
        for rdir in sorted(d for d in pdir.iterdir() if d.is_dir()):
            if (rdir / f"{REPORT_NAME}.html").exists():
                links.append(_index_link(f"{pdir.name}/{rdir.name}/{REPORT_NAME}.html",
                                         rdir.name, rdir))
        if links:
            rows.append(f"<tr><th>{html.escape(pdir.name)}</th><td>{' · '.join(links)}</td></tr>")
    body = "\n".join(rows) or '<tr><td colspan="2">no reports rendered yet</td></tr>'
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>powerlens strategy reports</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 0.3em 1em; border-bottom: 1px solid #ddd; text-align: left; }}
</style>
</head>
<body>
<h1>Strategy reports</h1>
<table>
<tr><th>period</th><th>reports (HTML; actions.csv alongside)</th></tr>
{body}
</table>
</body>
</html>
"""
    index = out_root / "index.html"
    _write_if_changed(index, page)
    return index


def _index_link(href: str, label: str, folder: Path) -> str:
    link = f'<a href="{html.escape(href)}">{html.escape(label)}</a>'
    if (folder / "actions.csv").exists():
        link += f' (<a href="{html.escape(str(Path(href).parent / "actions.csv"))}">actions</a>)'
    return link


# --------------------------------------------------------------------------- backfill


@dataclass
class PeriodOutcome:
    """How one period of a backfill went."""

    period: str
    ok: bool
    html: Path | None = None              # the report, when ok
    failed_notebook: Path | None = None   # the kept executed notebook, when the notebook failed
    error: str | None = None              # one line, when not ok
    seconds: float = 0.0


@dataclass
class BackfillResult:
    """Every period of a backfill, in period order, and the index written at the end."""

    outcomes: list[PeriodOutcome]
    index: Path
    region: str | None = None
    seconds: float = 0.0
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
        where = f" for region {self.region}" if self.region else ""
        lines = [f"{len(self.rendered)} of {len(self.outcomes)} period(s) rendered{where} in "
                 f"{self.seconds:.0f} s; {len(self.failed)} failed"
                 + (f": {', '.join(self.failed)}" if self.failed else "")]
        for o in self.outcomes:
            if not o.ok:
                kept = f" (notebook kept at {o.failed_notebook})" if o.failed_notebook else ""
                lines.append(f"  FAILED {o.period}: {o.error}{kept}")
        lines.append(f"index: {self.index}")
        return "\n".join(lines)


def periods_between(start: str, end: str) -> list[str]:
    """Every month from start to end, both included ('YYYY-MM')."""
    period_bounds(start)
    period_bounds(end)
    if end < start:
        raise ValueError(f"--from {start} is after --to {end}")
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def _render_one(period: str, kwargs: dict[str, Any]) -> PeriodOutcome:
    """Render one period, turning any failure into an outcome (runs in a worker process)."""
    import warnings

    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    try:
        html_path = render(period, update_index=False, **kwargs)
    except ReportFailed as exc:
        error = str(exc).split(" (executed notebook kept at")[0]
        return PeriodOutcome(period, False, failed_notebook=exc.notebook, error=error,
                             seconds=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - one period's failure must not stop the others
        return PeriodOutcome(period, False, error=f"{type(exc).__name__}: {exc}".strip(),
                             seconds=time.perf_counter() - start)
    return PeriodOutcome(period, True, html=html_path, seconds=time.perf_counter() - start)


def backfill(
    start: str,
    end: str,
    data_dir: Path,
    out_root: Path = Path("reports"),
    region: str | None = None,
    top_n: int = 20,
    min_group_size: int = 10,
    workers: int = 2,
    notebook: Path = DEFAULT_NOTEBOOK,
    playbook: Path = Path("playbook.yaml"),
    progress: Callable[[str], None] | None = None,
    params: Path = Path("params.yaml"),
) -> BackfillResult:
    """Render every period from start to end (inclusive) with up to `workers` in parallel.

    Each period runs as `render` in its own worker process (its own kernel); a failing period
    is recorded (error, kept strategy_report.failed.ipynb) and the others go on. The index is
    written once, at the end. Never raises for a failing period: check `result.ok`.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    periods = periods_between(start, end)
    root = project_root()
    data_dir, out_root, notebook, playbook, params = (
        Path(p) if Path(p).is_absolute() else root / p
        for p in (data_dir, out_root, notebook, playbook, params)
    )
    kwargs = {"data_dir": data_dir, "out_root": out_root, "region": region, "top_n": top_n,
              "min_group_size": min_group_size, "notebook": notebook, "playbook": playbook,
              "params": params}
    say = progress or (lambda _msg: None)
    clock = time.perf_counter()
    outcomes: dict[str, PeriodOutcome] = {}

    def done(outcome: PeriodOutcome) -> None:
        outcomes[outcome.period] = outcome
        state = "ok" if outcome.ok else f"FAILED: {outcome.error}"
        say(f"{outcome.period} {state} ({outcome.seconds:.1f} s)")

    workers = max(1, min(int(workers), len(periods)))
    if workers == 1:
        for period in periods:
            done(_render_one(period, kwargs))
    else:
        # spawn: a fresh interpreter per worker, safe whatever threads the caller runs
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_render_one, period, kwargs): period for period in periods}
            for future in as_completed(futures):
                period = futures[future]
                try:
                    done(future.result())
                except Exception as exc:  # noqa: BLE001 - a worker died (e.g. out of memory)
                    done(PeriodOutcome(period, False, error=f"worker failed: {type(exc).__name__}: {exc}"))
    index = write_index(out_root)
    return BackfillResult([outcomes[p] for p in periods], index, region=region,
                          seconds=time.perf_counter() - clock)


# --------------------------------------------------------------------------- report data


def read_table(data_dir: str | Path, relpath: str) -> pd.DataFrame | None:
    """A parquet file under data_dir, or None when it does not exist."""
    path = Path(data_dir) / relpath
    return pd.read_parquet(path) if path.exists() else None


def read_json(data_dir: str | Path, relpath: str) -> dict[str, Any] | None:
    """A JSON file under data_dir, or None when it does not exist."""
    path = Path(data_dir) / relpath
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def region_customer_ids(data_dir: str | Path, region: str | None) -> set[str] | None:
    """Customer ids of a region (None = no filter), from customers, else segments."""
    if region is None:
        return None
    for rel in ("clean/customers.parquet", "segments/segments.parquet"):
        table = read_table(data_dir, rel)
        if table is not None and "region" in table.columns:
            return set(table.loc[table["region"] == region, "customer_id"].astype(str))
    return set()


def filter_region(df: pd.DataFrame | None, ids: set[str] | None) -> pd.DataFrame | None:
    """Rows of the given customers (no-op when ids is None)."""
    if df is None or ids is None:
        return df
    return df[df["customer_id"].astype(str).isin(ids)]


# --------------------------------------------------------------------------- point in time
#
# A report for a period shows the utility as it was at the period's end: features, segments,
# risk scores and the action plan as of that cut-off, from data strictly before it. At the
# pipeline's scoring cut-off the stages' outputs are used as they are; at any other cut-off the
# report computes them itself with the same functions (features.build, segmentation.segment
# with the load-shape algorithm and k the segment stage chose, the champion's model family
# trained walk-forward on the training cut-offs whose label windows end before the cut-off,
# calibrated like the champion). A model trained on later labels is never used for an earlier
# period: that would let the future into the past report and its review of past actions.


@dataclass
class ScoringModel:
    """The model that scored one task at one cut-off, and on which cut-offs it learned."""

    task: str
    source: str                       # "champion (score stage)" or "walk-forward"
    family: str
    train_cutoffs: list[str]
    valid_cutoff: str
    model: Any = None                 # None when the score stage's scores are used as they are
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Snapshot:
    """The utility at one cut-off, from data strictly before it (None where not computable)."""

    cutoff: pd.Timestamp
    features: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    profiles: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    models: dict[str, ScoringModel] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class PeriodState:
    """Everything the report shows about a period that depends on segments and scores: this
    period's snapshot and plan, the previous period's snapshot and plan (its eligible customers
    in groups), what happened to them since, and the score drift between the two."""

    period: str
    current: Snapshot
    previous: Snapshot
    plan: pd.DataFrame
    previous_groups: pd.DataFrame
    outcomes: dict[str, pd.DataFrame]
    drift: pd.DataFrame
    notes: list[str]


def snapshot_cutoff(data_dir: str | Path, period: str) -> tuple[pd.Timestamp, str]:
    """The cut-off a period's report shows: the period's end, or the data's end (the pipeline's
    scoring cut-off) when the period is not over in the data; with a one-line note."""
    _, end = period_bounds(period)
    manifest = read_json(data_dir, "features/manifest.json") or {}
    if manifest.get("scoring_cutoff"):
        data_end = pd.Timestamp(manifest["scoring_cutoff"])
        if data_end < end:
            return data_end, (f"the data ends before the end of {period}: segments and scores as of "
                              f"{data_end.date()}")
    return end, f"segments and scores as of {end.date()} (data before the end of {period})"


class _Workbench:
    """Loads what a period's state needs once (lazily); computes features, segments and
    walk-forward models at other cut-offs than the stages', through a file cache."""

    def __init__(self, data_dir: str | Path, params: dict[str, Any], cache_dir: str | Path | None = None):
        self.data = Path(data_dir)
        self.params = params
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.manifest = read_json(self.data, "features/manifest.json") or {}
        self.scoring_cutoff = (pd.Timestamp(self.manifest["scoring_cutoff"])
                               if self.manifest.get("scoring_cutoff") else None)
        self._clean: Any = None
        self._tables: dict[str, pd.DataFrame | None] = {}
        self._models: dict[tuple, tuple[ScoringModel | None, str | None]] = {}
        self._feature_cutoffs: list[pd.Timestamp] | None = None
        self._features: dict[pd.Timestamp, pd.DataFrame] = {}

    @property
    def features_path(self) -> Path:
        return self.data / "features" / "features.parquet"

    def table(self, name: str) -> pd.DataFrame | None:
        if name not in self._tables:
            self._tables[name] = read_table(self.data, f"clean/{name}.parquet")
        return self._tables[name]

    def light_clean(self) -> Any:
        """The clean tables without readings (features.load_clean), for labels; loaded once."""
        if self._clean is None:
            from powerlens import features as F

            self._clean = F.load_clean(self.data / "clean", with_readings=False)
        return self._clean

    def feature_cutoffs(self) -> list[pd.Timestamp]:
        """The cut-offs features.parquet holds."""
        if self._feature_cutoffs is None:
            if self.features_path.exists():
                as_of = pd.read_parquet(self.features_path, columns=["as_of"])["as_of"]
                self._feature_cutoffs = sorted(pd.Timestamp(t) for t in as_of.unique())
            else:
                self._feature_cutoffs = []
        return self._feature_cutoffs

    def features_at(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        """Features as of the cut-off: the features stage's rows when it built that cut-off,
        else built from the clean data (strictly before the cut-off), through the cache."""
        if cutoff not in self._features:
            self.prefetch_features([cutoff])
        return self._features[cutoff]

    def prefetch_features(self, cutoffs: list[pd.Timestamp]) -> None:
        """Features at several cut-offs, those not found in the stage's file or the cache built
        in one pass of the features engine (features.engine.build_features: partitions of
        customers, so memory stays bounded however many meters the utility has)."""
        from powerlens import features as F
        from powerlens.features.engine import build_features

        options = F.build_options(self.params["features"])
        stamp = [options, _code_stamp(F.__file__)]
        missing = []
        for cutoff in cutoffs:
            if cutoff in self._features:
                continue
            if cutoff in self.feature_cutoffs():
                self._features[cutoff] = pd.read_parquet(self.features_path, filters=[("as_of", "==", cutoff)])
            elif (hit := self.cache_read("features", cutoff, stamp)) is not None:
                self._features[cutoff] = hit[0]
            else:
                missing.append(cutoff)
        if not missing:
            return
        if not (self.data / "clean" / "customers.parquet").exists():
            raise FileNotFoundError("no clean/customers.parquet to build features from")
        built, _ = build_features(self.data / "clean", missing, options, engine="local",
                                  customers_per_partition=int(self.params["features"].get(
                                      "customers_per_partition", 20_000)))
        for cutoff in missing:
            feats = built[built["as_of"] == cutoff].reset_index(drop=True)
            self._features[cutoff] = feats
            self.cache_write("features", cutoff, stamp, (feats,))

    def segments_at(self, cutoff: pd.Timestamp, feats: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Segments and load-shape profiles at the cut-off: the segment stage's at its cut-off,
        else segmentation.segment with the load-shape algorithm and k the stage chose."""
        seg_dir = self.data / "segments"
        if cutoff == self.scoring_cutoff and (seg_dir / "segments.parquet").exists():
            profiles = read_table(seg_dir, "profiles.parquet")
            return pd.read_parquet(seg_dir / "segments.parquet"), profiles
        from powerlens.segmentation import profile_table, read_look_back, replay_params, segment

        params = replay_params(self.params["segment"], read_json(seg_dir, "metrics.json") or {})

        def compute() -> tuple[pd.DataFrame, pd.DataFrame]:
            look_back = read_look_back(self.data / "clean", pd.Index(feats["customer_id"]), cutoff,
                                       params["clustering"].get("history_days", 365))
            seg, _, _ = segment(feats, look_back, params)
            return seg, profile_table(look_back, seg)

        from powerlens import segmentation

        stamp = [params, _code_stamp(segmentation.__file__), len(feats),
                 pd.util.hash_pandas_object(feats["customer_id"], index=False).sum()]
        seg, profiles = self.cached("segments", cutoff, stamp, compute)
        return seg, profiles

    def cached(self, kind: str, cutoff: pd.Timestamp, stamp: list[Any],
               compute: Callable[[], tuple[pd.DataFrame, ...]]) -> tuple[pd.DataFrame, ...]:
        """compute() through the parquet cache (cache_read / cache_write)."""
        hit = self.cache_read(kind, cutoff, stamp)
        if hit is not None:
            return hit
        frames = compute()
        self.cache_write(kind, cutoff, stamp, frames)
        return frames

    def _cache_key(self, kind: str, cutoff: pd.Timestamp, stamp: list[Any]) -> str:
        return _stamp_key([kind, str(cutoff.date()), stamp, self.inputs_stamp()])

    def cache_read(self, kind: str, cutoff: pd.Timestamp, stamp: list[Any]) -> tuple[pd.DataFrame, ...] | None:
        """Frames kept for this cut-off, `stamp` and the current input files (size, modification
        time), or None: consecutive periods and re-renders share a cut-off's features and
        segments instead of recomputing them. No cache when cache_dir is None."""
        if self.cache_dir is None:
            return None
        key = self._cache_key(kind, cutoff, stamp)
        paths = sorted((self.cache_dir / kind).glob(f"{cutoff.date()}-{key}-*.parquet"))
        return tuple(pd.read_parquet(p) for p in paths) if paths else None

    def cache_write(self, kind: str, cutoff: pd.Timestamp, stamp: list[Any], frames: tuple[pd.DataFrame, ...]) -> None:
        if self.cache_dir is None:
            return
        key = self._cache_key(kind, cutoff, stamp)
        (self.cache_dir / kind).mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(frames):
            path = self.cache_dir / kind / f"{cutoff.date()}-{key}-{i}.parquet"
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            frame.to_parquet(tmp, index=False)
            tmp.replace(path)

    def inputs_stamp(self) -> list[Any]:
        """Size and modification time of every input file: a changed input misses the cache."""
        files = sorted((self.data / "clean").glob("*.parquet")) + [
            self.features_path, self.data / "segments" / "metrics.json"]
        return [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files if p.exists()]

    def tasks(self) -> list[str]:
        return [t for t in self.params.get("train", {}).get("tasks", strategy.TASKS)]

    def stage_scores(self, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, ScoringModel]] | None:
        """The score stage's scores when they are for this cut-off."""
        path = self.data / "scores" / "scores.parquet"
        if cutoff != self.scoring_cutoff or not path.exists():
            return None
        scores = pd.read_parquet(path)
        models = {}
        for task in scores["task"].unique():
            info = read_json(self.data, f"models/{task}/metrics.json") or {}
            versions = scores.loc[scores["task"] == task, "model_version"] if "model_version" in scores else []
            source = f"champion v{int(versions.iloc[0])}" if len(versions) else "champion"
            if info.get("promoted", True):  # the last training made it: its family, cut-offs, metrics
                family = str(info.get("champion_family") or info.get("best_family") or "?")
                models[task] = ScoringModel(
                    task, source, family, list(info.get("train_cutoffs", [])), str(info.get("valid_cutoff", "?")),
                    metrics={k: v for k, v in (info.get("families", {}).get(family, {}) or {}).items()
                             if k in ("roc_auc", "pr_auc", "brier")})
            else:  # kept from an earlier training: the MLflow registry holds its details
                models[task] = ScoringModel(task, f"{source} (an earlier training; see the registry)", "?",
                                            [], "?")
        return scores, models

    def walk_forward(self, task: str, cutoff: pd.Timestamp) -> tuple[ScoringModel | None, str | None]:
        """The champion's model family trained as the train stage trains it, on the feature
        cut-offs whose whole label window ends by `cutoff` (train on the earlier ones, validate
        and calibrate on the latest); None and a reason when that is not possible. The
        previous period's snapshot gets its own models this way too, so the plan a report
        reviews is the plan the previous period's report made."""
        info = read_json(self.data, f"models/{task}/metrics.json")
        if not info or info.get("skipped"):
            return None, f"{task}: no trained model (train stage)"
        family = info.get("champion_family") or info.get("best_family")
        if not family:
            return None, f"{task}: the train stage recorded no model family"
        if task in (self.manifest.get("label_cutoffs") or {}):
            return None, (f"{task}: labels given by the source are for one date only: scores only at "
                          "the scoring cut-off")
        tp, horizon = self.params["train"], int(self.params["features"]["horizon_months"])
        usable = [t for t in self.feature_cutoffs() if t + pd.DateOffset(months=horizon) <= cutoff]
        usable = usable[-int(self.params["features"].get("n_training_cutoffs", 5)):]
        if len(usable) < 2:
            return None, (f"{task}: fewer than two feature cut-offs with a full {horizon}-month label window "
                          f"before {cutoff.date()}: no point-in-time model")
        key = (task, family, tuple(usable))
        if key not in self._models:
            self._models[key] = self._cached_train(task, family, usable, horizon, tp)
        return self._models[key]

    def _cached_train(self, task: str, family: str, usable: list[pd.Timestamp], horizon: int,
                      tp: dict[str, Any]) -> tuple[ScoringModel | None, str | None]:
        """_train, through a file cache in cache_dir: consecutive periods (and re-renders) share
        walk-forward models. The key covers everything the model depends on: task, family,
        cut-offs, the train params, the input files (size and modification time) and the risk
        code, so a changed input trains anew."""
        import pickle

        if self.cache_dir is None:
            return self._train(task, family, usable, horizon, tp)
        from powerlens.risk import models as risk_models

        key = _stamp_key([task, family, [str(t.date()) for t in usable], horizon, tp,
                          self.inputs_stamp(), _code_stamp(risk_models.__file__)])
        path = self.cache_dir / "models" / f"{task}-{key}.pkl"
        if path.exists():
            # written by this project's own renders (see README): not a file from elsewhere
            with path.open("rb") as fh:
                return pickle.load(fh)
        trained = self._train(task, family, usable, horizon, tp)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(trained, fh)
        tmp.replace(path)
        return trained

    def _train(self, task: str, family: str, usable: list[pd.Timestamp], horizon: int,
               tp: dict[str, Any]) -> tuple[ScoringModel | None, str | None]:
        from threadpoolctl import threadpool_limits

        from powerlens.risk import labels
        from powerlens.risk.models import CalibratedModel, choose_calibration, fit_calibrator
        from powerlens.risk.train import NotEnoughLabels, fit_and_compare

        feats = pd.read_parquet(self.features_path, filters=[("as_of", "in", usable)])
        y = labels.derive(task, self.light_clean(), feats, horizon, tp["arrears_days_past_due"])
        try:
            # one OpenMP thread: 3x faster than two for these sizes on a busy 2-core machine
            # (LightGBM keeps the thread count its model sets)
            with threadpool_limits(limits=1):
                result = fit_and_compare(task, feats, y, tp, families=(family,))
        except NotEnoughLabels:  # its counts stay out of the report: they can be tiny groups
            return None, (f"{task}: too few positive labels in the label windows before "
                          f"{(usable[-1] + pd.DateOffset(months=horizon)).date()} to train a point-in-time model")
        fitted = result.families[family]
        method, _ = choose_calibration(fitted.valid_score, result.y_valid)
        model = CalibratedModel(fitted.model, method, fit_calibrator(method, fitted.valid_score, result.y_valid))
        return ScoringModel(
            task, "walk-forward", family, [str(t.date()) for t in result.train_cutoffs],
            str(result.valid_cutoff.date()), model,
            {k: v for k, v in fitted.metrics.items() if k in ("roc_auc", "pr_auc", "brier")}), None


def _stamp_key(stamp: list[Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(stamp, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _code_stamp(module_file: str | None) -> str:
    """A hash of the .py files of a package: changed code misses the cache."""
    import hashlib

    files = sorted(Path(module_file).parent.glob("*.py")) if module_file else []
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()


def score_with(models: dict[str, ScoringModel], feats: pd.DataFrame) -> pd.DataFrame:
    """Each model's score for every account in `feats`, ranked per task (reasons left empty:
    `add_reasons` fills them for the customers a report shows)."""
    from threadpoolctl import threadpool_limits

    frames = []
    for task, sm in models.items():
        X = feats[list(sm.model.feature_names_in_)]
        with threadpool_limits(limits=1):  # one pass of prediction: threads cost more than they save
            score = sm.model.predict_proba(X)[:, 1]
        frame = pd.DataFrame({"customer_id": feats["customer_id"].astype(str).to_numpy(), "task": task,
                              "score": score})
        frame["rank"] = frame["score"].rank(ascending=False, method="first").astype(int)
        frame["reasons"] = ""
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["customer_id", "task", "score", "rank", "reasons"])
    return pd.concat(frames, ignore_index=True)


def add_reasons(scores: pd.DataFrame, models: dict[str, ScoringModel], feats: pd.DataFrame,
                wanted: dict[str, set[str]]) -> pd.DataFrame:
    """Reason codes (risk.explain) for the wanted customers of each task: explaining only the
    customers the report lists keeps a period's render fast."""
    from threadpoolctl import threadpool_limits

    from powerlens.risk.explain import reason_codes

    scores = scores.copy()
    by_id = feats.assign(customer_id=feats["customer_id"].astype(str)).set_index("customer_id")
    for task, ids in wanted.items():
        sm = models.get(task)
        if sm is None or sm.model is None or not ids:
            continue
        rows = scores.index[(scores["task"] == task) & scores["customer_id"].isin(ids)]
        if not len(rows):
            continue
        X = by_id.loc[scores.loc[rows, "customer_id"], list(sm.model.feature_names_in_)]
        with threadpool_limits(limits=1):  # many small predictions: 10x faster on one thread
            scores.loc[rows, "reasons"] = reason_codes(sm.model, X.reset_index(drop=True))
    return scores


def _snapshot(bench: _Workbench, cutoff: pd.Timestamp) -> Snapshot:
    """Features, segments and scores at one cut-off; each missing piece leaves a note."""
    snap = Snapshot(cutoff)
    try:
        snap.features = bench.features_at(cutoff)
    except Exception as exc:  # noqa: BLE001 - the report says why instead of failing
        snap.notes.append(f"no features as of {cutoff.date()}: {_one_line(exc)}")
        return snap
    try:
        snap.segments, snap.profiles = bench.segments_at(cutoff, snap.features)
    except Exception as exc:  # noqa: BLE001
        snap.notes.append(f"no segments as of {cutoff.date()}: {_one_line(exc)}")
    staged = bench.stage_scores(cutoff)
    if staged is not None:
        snap.scores, snap.models = staged
        return snap
    for task in bench.tasks():
        model, why = bench.walk_forward(task, cutoff)
        if model is None:
            snap.notes.append(why or f"{task}: no model")
        else:
            snap.models[task] = model
    try:
        snap.scores = score_with(snap.models, snap.features)
    except Exception as exc:  # noqa: BLE001
        snap.notes.append(f"no scores as of {cutoff.date()}: {_one_line(exc)}")
    return snap


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def period_state(
    data_dir: str | Path,
    period: str,
    playbook_path: str | Path | None = "playbook.yaml",
    params: dict[str, Any] | str | Path | None = None,
    region: str | None = None,
    top_n: int = 20,
    cache_dir: str | Path | None = None,
) -> PeriodState:
    """The point-in-time state of a period for the whole utility (regions are cut later, so
    capacities stay utility-wide): this period's snapshot and action plan, the previous
    period's snapshot and plan groups, the outcomes since, and score drift. Reason codes are
    computed for the customers the report shows: the plan and the `top_n` of each risk list
    (of `region` when given). `cache_dir` keeps the features, segments and walk-forward
    models computed here for later renders (keyed on their inputs)."""
    from powerlens.config import load_params

    if not isinstance(params, dict):
        params = load_params(params if params else project_root() / "params.yaml")
    cutoff, note = snapshot_cutoff(data_dir, period)
    bench = _Workbench(data_dir, params, cache_dir)
    playbook = None
    if playbook_path is not None and Path(playbook_path).exists():
        playbook = strategy.load_playbook(playbook_path)
    previous_cutoff = cutoff - pd.DateOffset(months=1)
    try:  # both periods' features in one pass when they must be built
        bench.prefetch_features([cutoff, previous_cutoff])
    except Exception:  # noqa: BLE001 - each snapshot says what is missing
        pass
    current = _snapshot(bench, cutoff)
    previous = _snapshot(bench, previous_cutoff)
    notes = [note]

    empty_plan = pd.DataFrame(columns=strategy.ACTION_COLUMNS)
    plan, groups = empty_plan, pd.DataFrame(columns=[*strategy.ACTION_COLUMNS[:-1], "group"])
    if playbook is not None and current.segments is not None:
        plan = strategy.plan_actions(current.segments, _scores_or_empty(current), playbook,
                                     current.features, holdout_salt=str(cutoff.date()))
    if current.scores is not None and any(m.model is not None for m in current.models.values()):
        shown = filter_region(current.scores, region_customer_ids(data_dir, region))
        wanted = {task: set(shown.loc[(shown["task"] == task)].nsmallest(top_n, "rank")["customer_id"])
                  for task in current.models}
        for action in (playbook or {}).get("actions", []):
            task = action["when"].get("task")
            if task in wanted:
                wanted[task] |= set(plan.loc[plan["action"] == action["name"], "customer_id"])
        current.scores = add_reasons(current.scores, current.models, current.features, wanted)
        if playbook is not None and current.segments is not None:  # the plan's reasons, now explained
            plan = strategy.plan_actions(current.segments, current.scores, playbook,
                                         current.features, holdout_salt=str(cutoff.date()))
    if playbook is not None and previous.segments is not None:
        groups = strategy.action_groups(previous.segments, _scores_or_empty(previous), playbook,
                                        previous.features, holdout_salt=str(previous_cutoff.date()))

    outcomes: dict[str, pd.DataFrame] = {}
    customers = bench.table("customers")
    if playbook is not None and previous.features is not None and customers is not None and len(groups):
        open_ids = pd.Index(previous.features["customer_id"].astype(str))
        for outcome in sorted({a["outcome"] for a in playbook["actions"] if a.get("outcome")}):
            outcomes[outcome] = strategy.outcome_flags(
                outcome, open_ids, previous_cutoff, cutoff, customers, bench.table("bills"),
                bench.table("payments"), bench.table("service_events"))

    drift = pd.DataFrame()
    if current.scores is not None and len(current.scores):
        prev_scores = None
        if current.models and all(m.model is not None for m in current.models.values()):
            if previous.features is not None and previous.scores is not None and all(
                    previous.models.get(t) is m for t, m in current.models.items()):
                prev_scores = previous.scores  # the same models scored the previous period
            elif previous.features is not None:
                prev_scores = score_with(current.models, previous.features)
        else:  # the score stage's scores: it scored the previous cut-off with the same champions
            prev_scores = read_table(data_dir, "scores/scores_previous.parquet")
        if prev_scores is not None and len(prev_scores):
            drift = score_drift(current.scores, prev_scores)
    return PeriodState(period, current, previous, plan, groups, outcomes, drift, notes)


def _scores_or_empty(snap: Snapshot) -> pd.DataFrame:
    if snap.scores is None:
        return pd.DataFrame(columns=["customer_id", "task", "score", "rank", "reasons"])
    return snap.scores


def model_sources(snap: Snapshot) -> pd.DataFrame:
    """Which model scored each task at the snapshot's cut-off and what it learned from."""
    rows = [{"task": m.task, "model": m.source, "family": m.family,
             "trained on cut-offs": ", ".join(m.train_cutoffs), "validated on": m.valid_cutoff,
             **{f"validation {k}": v for k, v in m.metrics.items()}}
            for m in snap.models.values()]
    return pd.DataFrame(rows)


def review_last_actions(state: PeriodState, playbook: dict[str, Any], region_ids: set[str] | None,
                        min_group_size: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """The previous period's plan against what happened since (strategy.review_actions), for
    the region's customers only, with one reading per action."""
    if state.previous.features is None or not len(state.previous_groups) or not state.outcomes:
        return pd.DataFrame(), {}
    groups = filter_region(state.previous_groups, region_ids)
    open_ids = pd.Index(state.previous.features["customer_id"].astype(str))
    if region_ids is not None:
        open_ids = open_ids[open_ids.isin(region_ids)]
    review = strategy.review_actions(groups, state.outcomes, playbook, open_ids, min_group_size)
    return review, strategy.review_readings(review, playbook)


def monthly_kpis(
    data_dir: str | Path, period: str, region: str | None = None, months: int = 12
) -> pd.DataFrame:
    """KPIs for the `months` months ending with `period` (one row per month).

    customers (accounts active in the month), kwh and revenue (billed), on_time_rate (bills
    due in the month paid in full by the due date), arrears_amount (unpaid past-due amount at
    month end), accounts_closed, thefts_confirmed (inspections). Missing tables give NaN.
    """
    last = pd.Period(period, freq="M")
    period_bounds(period)
    months_list = [last - i for i in reversed(range(months))]
    ids = region_customer_ids(data_dir, region)
    customers = filter_region(read_table(data_dir, "clean/customers.parquet"), ids)
    bills = filter_region(read_table(data_dir, "clean/bills.parquet"), ids)
    payments = filter_region(read_table(data_dir, "clean/payments.parquet"), ids)
    events = filter_region(read_table(data_dir, "clean/service_events.parquet"), ids)

    if bills is not None:
        bills = bills[bills["period"].astype(str) <= str(last)].reset_index(drop=True)
        amount = bills["amount"].to_numpy(dtype=float)
        due_date = bills["due_date"]
        if payments is not None:
            # position of each payment's bill, to sum payments per bill with bincount
            pos = pd.Index(bills["bill_id"]).get_indexer(payments["bill_id"])
            known = pos >= 0
            pay_pos = pos[known]
            pay_amount = payments["amount"].to_numpy(dtype=float)[known]
            paid_on = payments["paid_on"].to_numpy()[known]
            on_time = (
                payments["paid_on"].dt.normalize().to_numpy()[known]
                <= due_date.dt.normalize().to_numpy()[pay_pos]
            )
            ontime_paid = np.bincount(pay_pos[on_time], pay_amount[on_time], minlength=len(bills))

    rows = []
    for p in months_list:
        s, e = p.start_time, (p + 1).start_time
        row: dict[str, Any] = {"period": str(p)}
        if customers is not None:
            end_date = customers["end_date"]
            active = (customers["start_date"] < e) & (end_date.isna() | (end_date >= s))
            row["customers"] = int(active.sum())
            row["accounts_closed"] = int(((end_date >= s) & (end_date < e)).sum())
        if bills is not None:
            month = bills[bills["period"].astype(str) == str(p)]
            row["kwh"] = float(month["kwh"].sum())
            row["revenue"] = float(month["amount"].sum())
            if payments is not None:
                due = ((due_date >= s) & (due_date < e) & (bills["amount"] > 0)).to_numpy()
                row["on_time_rate"] = (
                    float((ontime_paid[due] >= amount[due] - 0.005).mean()) if due.any() else np.nan
                )
                before = paid_on < np.datetime64(e)
                paid_by = np.bincount(pay_pos[before], pay_amount[before], minlength=len(bills))
                owed = (due_date < e).to_numpy()
                row["arrears_amount"] = float(np.clip(amount[owed] - paid_by[owed], 0, None).sum())
        if events is not None:
            theft = (
                (events["kind"] == "inspection") & (events["outcome"] == "theft_confirmed")
                & (events["ts"] >= s) & (events["ts"] < e)
            )
            row["thefts_confirmed"] = int(theft.sum())
        rows.append(row)
    cols = ["period", "customers", "kwh", "revenue", "on_time_rate", "arrears_amount",
            "accounts_closed", "thefts_confirmed"]
    return pd.DataFrame(rows).reindex(columns=cols)


def revenue_by_customer(data_dir: str | Path, period: str, region: str | None = None,
                        months: int = 12) -> pd.Series | None:
    """Billed revenue per customer over the `months` months ending with `period`."""
    last = pd.Period(period, freq="M")
    bills = filter_region(read_table(data_dir, "clean/bills.parquet"),
                          region_customer_ids(data_dir, region))
    if bills is None:
        return None
    window = {str(last - i) for i in range(months)}
    bills = bills[bills["period"].astype(str).isin(window)]
    return bills.groupby("customer_id")["amount"].sum()


def small_label(min_group_size: int) -> str:
    """What a suppressed cell shows."""
    return f"<{min_group_size}"


def tier_matrix(segments: pd.DataFrame, playbook: dict[str, Any], min_group_size: int) -> pd.DataFrame:
    """One row per value tier x credit grade: customers, revenue share, strategy, why.

    Cells with fewer than min_group_size customers show "<n" and no revenue share.
    """
    if "revenue_12m" in segments.columns:
        revenue = pd.to_numeric(segments["revenue_12m"], errors="coerce").fillna(0.0)
    else:
        revenue = pd.Series(0.0, index=segments.index)
    total = float(revenue.sum())
    rows = []
    for tier in strategy.VALUE_TIERS:
        for grade in strategy.CREDIT_GRADES:
            mask = (segments["value_tier"] == tier) & (segments["credit_grade"] == grade)
            n = int(mask.sum())
            small = n < min_group_size
            share = float(revenue[mask].sum() / total) if total > 0 and not small else None
            rows.append({
                "value_tier": tier,
                "credit_grade": grade,
                "customers": small_label(min_group_size) if small else str(n),
                "revenue_share": "–" if share is None else f"{share:.1%}",
                "strategy": strategy.tier_strategy(tier, grade, playbook),
                "why": playbook["tiers"][tier][grade].get("why", ""),
            })
    return pd.DataFrame(rows)


def suppressed_counts(values: pd.Series, min_group_size: int, name: str = "customers") -> pd.DataFrame:
    """Value counts with counts below min_group_size shown as "<n"."""
    counts = values.value_counts().sort_index()
    shown = [small_label(min_group_size) if c < min_group_size else str(int(c)) for c in counts]
    return pd.DataFrame({name: shown}, index=counts.index.astype(str))


def action_plan(
    data_dir: str | Path,
    period: str,
    region: str | None = None,
    playbook_path: str | Path = "playbook.yaml",
    params: dict[str, Any] | str | Path | None = None,
) -> pd.DataFrame:
    """The period's action plan at its own cut-off (period_state), empty when inputs are
    missing. Capacities apply to the whole utility: the plan is made for all customers, then
    the region's rows are kept."""
    plan = period_state(data_dir, period, playbook_path, params).plan
    plan = filter_region(plan, region_customer_ids(data_dir, region))
    return plan.reset_index(drop=True)


TIER_ORDER = [f"{t}/{g}" for t in ("high", "medium", "low") for g in ("A", "B", "C")]


def migration(current: pd.DataFrame, previous: pd.DataFrame, min_group_size: int) -> pd.DataFrame:
    """Transition matrix of value tier / credit grade cells from the previous period (rows) to
    this one (columns); `new` and `left` for accounts that opened or closed in between. Counts
    between 1 and min_group_size - 1 are suppressed."""
    def cells(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"customer_id": frame["customer_id"].astype(str),
                             "cell": frame["value_tier"].astype(str) + "/" + frame["credit_grade"].astype(str)})

    both = cells(previous).merge(cells(current), on="customer_id", how="outer", suffixes=("_previous", "_current"))
    both = both.fillna({"cell_previous": "new", "cell_current": "left"})
    table = pd.crosstab(both["cell_previous"], both["cell_current"])
    rows = [c for c in TIER_ORDER + ["new"] if c in table.index]
    cols = [c for c in TIER_ORDER + ["left"] if c in table.columns]
    table = table.reindex(index=rows, columns=cols, fill_value=0)
    shown = table.astype(object)
    small = (table > 0) & (table < min_group_size)
    shown[small] = small_label(min_group_size)
    shown.index.name, shown.columns.name = "previous period", "this period"
    return shown


def score_drift(current: pd.DataFrame, previous: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Per task: mean champion score last period and now, and the population stability index
    (PSI) over deciles of last period's scores (> 0.2 is usually read as a real shift)."""
    rows = []
    for task, cur in current.groupby("task"):
        prev = previous[previous["task"] == task]
        if prev.empty:
            continue
        edges = np.unique(np.quantile(prev["score"], np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        p = np.histogram(prev["score"], edges)[0] / len(prev)
        c = np.histogram(cur["score"], edges)[0] / len(cur)
        p, c = np.clip(p, 1e-4, None), np.clip(c, 1e-4, None)
        psi = float(np.sum((c - p) * np.log(c / p)))
        rows.append({"task": task, "mean score last period": prev["score"].mean(),
                     "mean score now": cur["score"].mean(), "PSI": psi,
                     "reading": "shift: check the model" if psi > 0.2 else "stable"})
    return pd.DataFrame(rows)


def model_comparison(data_dir: str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Families x metrics per task from models/<task>/metrics.json, and each task's decision."""
    rows, decisions = [], {}
    models = Path(data_dir) / "models"
    for task in strategy.TASKS:
        metrics = read_json(models, f"{task}/metrics.json")
        if not metrics:
            continue
        champion = metrics.get("champion_family")
        for family, values in sorted((metrics.get("families") or {}).items()):
            rows.append({"task": task, "family": family,
                         "champion": "yes" if family == champion else "", **values})
        decision = metrics.get("decision", "")
        n = f"n_train={metrics.get('n_train', '?')}, n_valid={metrics.get('n_valid', '?')}"
        decisions[task] = f"{decision} ({n})" if decision else n
    return pd.DataFrame(rows), decisions


CLUSTERING_INDICES = ["silhouette", "davies_bouldin", "calinski_harabasz", "cdi", "mia", "stability_ari"]


def clustering_comparison(data_dir: str | Path, per_family: int = 4) -> pd.DataFrame:
    """The load-shape candidates the segment stage compared (data/segments/clustering_candidates.csv):
    per shape family the chosen one and the next best by mean rank, with the validity indices
    (silhouette and Calinski-Harabasz higher is better; Davies-Bouldin, CDI and MIA lower) and the
    bootstrap stability (adjusted Rand index between runs on resampled customers and days)."""
    path = Path(data_dir) / "segments" / "clustering_candidates.csv"
    if not path.exists():
        return pd.DataFrame()
    c = pd.read_csv(path)
    c["chosen"] = c["chosen"].astype(str).str.lower().eq("true")
    c = c.sort_values(["family", "chosen", "mean_rank", "k"], ascending=[True, False, True, True])
    top = c.groupby("family", sort=True).head(per_family)
    out = top[["family", "algorithm", "k", *[i for i in CLUSTERING_INDICES if i in top], "chosen"]].copy()
    out["chosen"] = np.where(out["chosen"], "chosen", "")
    return out.rename(columns={"stability_ari": "stability (ARI)"}).round(3).reset_index(drop=True)


def show_figure(fig: Any, alt: str | None = None, dpi: int = 96) -> None:
    """Display a matplotlib figure as an embedded PNG (no timestamp metadata) and close it.

    `alt` (default: the figure's or first axes' title) becomes the image's alternative text.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    if alt is None:
        suptitle = getattr(fig, "_suptitle", None)
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        alt = suptitle.get_text() if suptitle is not None else (titles[0] if titles else "figure")
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png", metadata={"alt": alt}))
