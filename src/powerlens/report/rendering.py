"""Rendering: papermill runs the report notebook on a period's snapshot, nbconvert makes an
HTML page without code that reads fully offline, and `index.html` lists every report.

`render` executes notebooks/reports/strategy_report.py (a jupytext notebook) for one period
(and optionally one region) into reports/<period>[/<region>]/: the executed notebook, the HTML
page and the action plan as actions.csv (the snapshot's plan, cut to the region). The notebook
reads the snapshot and writes nothing. Outputs are only rewritten when their content changes,
so re-rendering an unchanged period changes nothing.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any

from powerlens.atomic import write_text
from powerlens.errors import PowerlensError
from powerlens.rules import is_period, period_bounds

REPORT_NAME = "strategy_report"
_TMP = ".tmp-"  # powerlens.atomic's mark: a staging folder is a temporary name (atomic.is_temporary)

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
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}" alt="{{ ((output | get_metadata('alt', 'image/png')) or 'figure') | escape_html }}">
</div>
{%- endblock data_png %}
"""



class ReportFailed(PowerlensError):
    """The report notebook stopped on one of our own errors (e.g. a snapshot that lacks what
    it shows); `notebook` is the kept executed notebook showing it."""

    def __init__(self, message: str, notebook: Path):
        super().__init__(f"{message} (executed notebook kept at {notebook})")
        self.notebook = notebook


class ReportNotebookBug(RuntimeError):
    """The report notebook failed on anything else: a bug, shown with the cell's traceback."""

    def __init__(self, message: str, notebook: Path, cell_traceback: str):
        super().__init__(f"{message} (executed notebook kept at {notebook})\n{cell_traceback}")
        self.notebook = notebook


def _ours(ename: str) -> bool:
    """Whether an exception class name raised in the kernel is one of the project's errors."""
    import powerlens.errors

    def names(cls: type) -> set[str]:
        return {cls.__name__} | {n for sub in cls.__subclasses__() for n in names(sub)}

    return ename in names(powerlens.errors.PowerlensError)


def report_dir(out_root: Path, period: str, region: str | None = None) -> Path:
    """reports/<period>/ or reports/<period>/<region>/ (region made file-name safe)."""
    period_bounds(period)
    out = Path(out_root) / period
    return out / _slug(region) if region else out


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("._")
    if not slug:
        raise PowerlensError(f"region {text!r} has no usable characters for a folder name")
    return slug



def render(period: str, snapshot: Path, out_root: Path, notebook: Path, region: str | None = None,
           update_index: bool = True) -> Path:
    """Execute the report notebook on a period's snapshot folder (and region); return the HTML.

    The list length and the small-group threshold are the snapshot's own (its manifest), so a
    report cannot show groups its snapshot was not made to suppress.

    Writes strategy_report.ipynb, strategy_report.html and actions.csv into report_dir(...),
    each only when its content changed (run timestamps are left out of the executed notebook),
    then refreshes <out_root>/index.html unless update_index is False. On failure the executed
    notebook is kept as strategy_report.failed.ipynb (a previous good report is left untouched)
    and ReportFailed is raised.

    Safe to run twice at once for the same period (two `powerlens report`) and to kill: the
    notebook runs in a private staging folder beside the report's folder, and every file is
    written under a temporary name and renamed into place (`powerlens.atomic`), so the report
    folder only ever holds complete files. Paths recorded in the executed notebook are relative
    (the snapshot as seen from the report's folder), so it is the same file on every machine.
    """
    import shutil
    import tempfile

    import jupytext
    import nbformat
    import papermill as pm

    from powerlens.atomic import remove_leftovers
    from powerlens.snapshots.store import load_snapshot

    snapshot, out_root, notebook = (Path(p).resolve() for p in (snapshot, out_root, notebook))
    snap = load_snapshot(snapshot, tables=["plan"])  # a missing snapshot fails here, in one line
    plan, top_n, min_group_size = snap.plan, snap.manifest["top_n"], snap.manifest["min_group_size"]
    out_dir = report_dir(out_root, period, region)
    if not notebook.exists():
        raise PowerlensError(f"report notebook not found: {notebook}")
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)  # what killed renders left: their staging folders, temporary files
    for name in (f"{REPORT_NAME}.ipynb", f"{REPORT_NAME}.html", f"{REPORT_NAME}.failed.ipynb", "actions.csv"):
        remove_leftovers(out_dir / name)
    (out_dir / f"{REPORT_NAME}.running.ipynb").unlink(missing_ok=True)  # from versions before staging
    nb = jupytext.read(notebook)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nb.metadata.setdefault("kernelspec", {"name": "python3", "language": "python",
                                          "display_name": "Python 3 (ipykernel)"})
    nb.metadata["title"] = f"Strategy report {period}" + (f" — {region}" if region else "")
    # the kernel runs in a staging folder beside out_dir (same depth): a relative path to the
    # snapshot resolves the same from both, and names no machine's folders
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}{_TMP}{os.getpid()}-", dir=out_dir.parent))
    try:
        parameters = {"period": period, "snapshot_dir": Path(os.path.relpath(snapshot, staging)).as_posix(),
                      "region": region, "top_n": int(top_n), "min_group_size": int(min_group_size)}
        running, failed = staging / f"{REPORT_NAME}.ipynb", out_dir / f"{REPORT_NAME}.failed.ipynb"
        try:
            pm.execute_notebook(nb, str(running), parameters=parameters, kernel_name="python3", language="python",
                                cwd=str(staging), progress_bar=False)
        except Exception as exc:  # noqa: BLE001 - papermill's errors carry the failing cell
            if not running.exists():
                raise
            write_text(failed, running.read_text(encoding="utf-8"))
            detail = getattr(exc, "ename", type(exc).__name__)
            evalue = getattr(exc, "evalue", str(exc))
            message = f"report {period} failed: {detail}: {evalue}"
            if _ours(detail):
                raise ReportFailed(message, failed) from exc
            raise ReportNotebookBug(message, failed, str(exc)) from exc
        executed_path = out_dir / f"{REPORT_NAME}.ipynb"
        executed = _without_run_metadata(nbformat.read(running, as_version=4), executed_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _write_if_changed(executed_path, nbformat.writes(executed) + "\n")
    failed.unlink(missing_ok=True)
    html_path = out_dir / f"{REPORT_NAME}.html"
    _write_if_changed(html_path, to_offline_html(executed))
    if plan is not None:  # the plan the report shows, cut to the region
        shown = plan if region is None else plan[plan["region"].astype(str) == str(region)]
        _write_if_changed(out_dir / "actions.csv", shown.drop(columns=["region"]).to_csv(index=False))
    if update_index:
        write_index(out_root)
    return html_path


def _write_if_changed(path: Path, text: str) -> bool:
    """Write text unless the file already holds it (an unchanged report keeps its mtime); the
    write itself is atomic (a temporary name of this process, then one rename)."""
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    write_text(path, text)
    return True


_RUN_KEYS = ("start_time", "end_time", "duration")


def _without_run_metadata(nb: Any, output_path: Path) -> Any:
    """The executed notebook without what differs between two runs of the same inputs:
    timestamps and durations (papermill, nbclient), random cell ids and the temporary path."""
    meta = nb.metadata.get("papermill", {})
    for key in (*_RUN_KEYS, "environment_variables"):
        meta.pop(key, None)
    if meta:
        meta["output_path"] = Path(output_path).name  # beside the HTML; no machine's folder
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
        (d for d in out_root.iterdir() if d.is_dir() and is_period(d.name)),
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
    from powerlens.atomic import remove_leftovers

    remove_leftovers(index)
    _write_if_changed(index, page)
    return index


def _index_link(href: str, label: str, folder: Path) -> str:
    link = f'<a href="{html.escape(href)}">{html.escape(label)}</a>'
    if (folder / "actions.csv").exists():
        link += f' (<a href="{html.escape(str(Path(href).parent / "actions.csv"))}">actions</a>)'
    return link

