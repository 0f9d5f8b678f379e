"""Periodic strategy reports: papermill runs the report notebook, nbconvert makes offline HTML.

`render` executes notebooks/reports/strategy_report.py (a jupytext notebook) for one period
(and optionally one region) into reports/<period>[/<region>]/ with the executed notebook, an
HTML page without code that reads fully offline, and the action plan as actions.csv, then
refreshes reports/index.html. `backfill` renders a range of periods in parallel worker
processes; a failing period does not stop the others. Outputs are only rewritten when their
content changes, so re-rendering an unchanged period changes nothing. The other functions
compute what the notebook presents, so the notebook holds presentation only; every loader
returns None when an input is missing.
"""

from __future__ import annotations

import html
import io
import json
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
) -> Path:
    """Execute the report notebook for a period (and region); return the HTML path.

    Relative paths are taken from the project root, where the notebook also runs. Writes
    strategy_report.ipynb, strategy_report.html and actions.csv into report_dir(...) (each
    only when its content changed: run timestamps are left out of the executed notebook), then
    refreshes <out_root>/index.html unless update_index is False. On failure the executed
    notebook is kept as strategy_report.failed.ipynb (a previous good report is left untouched)
    and ReportFailed is raised.
    """
    import jupytext
    import nbformat
    import papermill as pm

    root = project_root()
    data_dir, out_root, notebook, playbook = (
        Path(p) if Path(p).is_absolute() else root / p
        for p in (data_dir, out_root, notebook, playbook)
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
    }
    running = out_dir / f"{REPORT_NAME}.running.ipynb"
    failed = out_dir / f"{REPORT_NAME}.failed.ipynb"
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

    actions = action_plan(data_dir, period, region=region, playbook_path=playbook)
    _write_if_changed(out_dir / "actions.csv", actions.to_csv(index=False))
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
    return nb


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
    data_dir, out_root, notebook, playbook = (
        Path(p) if Path(p).is_absolute() else root / p
        for p in (data_dir, out_root, notebook, playbook)
    )
    kwargs = {"data_dir": data_dir, "out_root": out_root, "region": region, "top_n": top_n,
              "min_group_size": min_group_size, "notebook": notebook, "playbook": playbook}
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


def scoring_status(data_dir: str | Path, period: str) -> tuple[bool, str]:
    """Whether segments / scores / models may be shown for the period, with a one-line note.

    They are computed at the scoring cut-off (features/manifest.json); a report uses only
    data before its period's end, so a cut-off after that end makes them unusable.
    """
    _, end = period_bounds(period)
    manifest = read_json(data_dir, "features/manifest.json")
    if not manifest or not manifest.get("scoring_cutoff"):
        return True, "scoring cut-off unknown (no features/manifest.json): segments and scores shown as found"
    cutoff = pd.Timestamp(manifest["scoring_cutoff"])
    if cutoff > end:
        return False, (
            f"segments and scores are as of {cutoff.date()}, after the end of {period}: "
            "not shown (the report uses only data before the period's end)"
        )
    return True, f"segments and scores as of {cutoff.date()}"


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
) -> pd.DataFrame:
    """The period's action plan (strategy.plan_actions), empty when inputs are missing.

    Capacities apply to the whole utility: the plan is made for all customers, then the
    region's rows are kept.
    """
    empty = pd.DataFrame(columns=strategy.ACTION_COLUMNS)
    usable, _ = scoring_status(data_dir, period)
    segments = read_table(data_dir, "segments/segments.parquet")
    playbook_path = Path(playbook_path)
    if not usable or segments is None or not playbook_path.exists():
        return empty
    scores = read_table(data_dir, "scores/scores.parquet")
    if scores is None:
        scores = pd.DataFrame(columns=["customer_id", "task", "score", "rank", "reasons"])
    features = read_table(data_dir, "features/features.parquet")
    if features is not None and "as_of" in features.columns:
        _, end = period_bounds(period)
        features = features[features["as_of"] <= end]
    plan = strategy.plan_actions(segments, scores, strategy.load_playbook(playbook_path), features)
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
