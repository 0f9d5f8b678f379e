"""The strategy report renders to offline HTML + ipynb + actions.csv + index.

Runs the real notebook with papermill and nbconvert on the snapshot of a small hand-built data
folder (the snapshot job computes it first, as `powerlens report` does).
"""

from __future__ import annotations

import html
import re

import jupytext
import nbformat
import pandas as pd
import pytest

from powerlens.report import rendering
from support import NOTEBOOK, PERIOD, SECTIONS, build_data, render_period


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    data = build_data(base / "data")
    out = base / "reports"
    html_path = render_period(data, out)
    return {"data": data, "out": out, "html_path": html_path,
            "html": html_path.read_text(encoding="utf-8")}


@pytest.mark.slow
def test_render_writes_all_outputs(rendered):
    out_dir = rendered["out"] / PERIOD
    assert rendered["html_path"] == out_dir / "strategy_report.html"
    nb = nbformat.read(out_dir / "strategy_report.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert not (out_dir / "strategy_report.failed.ipynb").exists()

    actions = pd.read_csv(out_dir / "actions.csv")
    assert list(actions.columns) == ["customer_id", "action", "rank", "priority_score", "reasons", "holdout", "act_by"]
    assert {"development_visit", "vip_account_manager", "retention_contact"} <= set(actions["action"])
    assert "inspection" not in set(actions["action"])  # no theft scores
    visits = actions[actions["action"] == "development_visit"]
    assert visits["reasons"].str.contains("capacity increase requested").all()

    index = (rendered["out"] / "index.html").read_text()
    assert f'href="{PERIOD}/strategy_report.html"' in index


@pytest.mark.slow
def test_html_has_sections_no_code_and_embedded_images(rendered):
    page = rendered["html"]
    for heading in SECTIONS:
        assert heading in page, heading
    classes = re.findall(r'class="([^"]*)"', page)
    code_cells = [c for c in classes if "jp-CodeCell" in c]
    assert len(code_cells) >= 9 and all("jp-mod-noInput" in c for c in code_cells)
    # the only input areas are the markdown cells' rendered text
    assert sum("jp-InputArea" in c for c in classes) == sum("jp-MarkdownCell" in c for c in classes)
    joined = " ".join(classes)
    assert "jp-InputPrompt" not in joined and "jp-OutputPrompt" not in joined
    assert "highlight" not in joined and "jp-CodeMirrorEditor" not in joined
    assert "import matplotlib" not in page and "load_snapshot" not in page
    assert len(re.findall(r'src="data:image/png;base64,', page)) >= 3  # KPIs, Pareto, shapes
    assert "no scores for theft yet" in page
    comparison = page[page.index("How the shapes were chosen"):]
    assert all(w in comparison for w in ("Davies-Bouldin", "stability (ARI)", "0.91", "chosen"))  # columns in words
    assert "no model metrics for theft yet" in page
    assert "Traceback" not in page


@pytest.mark.slow
def test_html_reads_offline(rendered):
    page = rendered["html"]
    external = re.findall(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', page, flags=re.I)
    assert external == []
    assert not re.search(r"<script[^>]+src=", page, flags=re.I)
    assert "@import" not in page and "cdnjs" not in page and "unpkg" not in page
    assert "http" not in page.lower()
    assert 'alt="Pareto: top 20% =' in page


@pytest.mark.slow
def test_privacy_suppression(rendered):
    page = rendered["html"]
    # the tier matrix has cells below 10 customers and the 4-customer load shape is hidden
    assert "&lt;10" in page
    assert "flat three-shift (n=" not in page
    assert "1 shape(s) with fewer than 10 customers not shown" in page


@pytest.mark.slow
def test_rerender_is_deterministic_and_region_is_indexed(rendered):
    data, out = rendered["data"], rendered["out"]
    files = [out / PERIOD / name for name in
             ("strategy_report.html", "strategy_report.ipynb", "actions.csv")] + [out / "index.html"]
    before = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files}
    again = render_period(data, out)
    assert again.read_text(encoding="utf-8") == rendered["html"]
    # re-rendering an unchanged period changes nothing: same bytes, files not even rewritten
    assert {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files} == before
    assert sorted(p.name for p in (out / PERIOD).iterdir()) == [
        "actions.csv", "strategy_report.html", "strategy_report.ipynb"]

    north = render_period(data, out, region="north")
    assert north == out / PERIOD / "north" / "strategy_report.html"
    north_ids = set(pd.read_parquet(data / "clean/customers.parquet").query("region == 'north'")["customer_id"])
    actions = pd.read_csv(north.parent / "actions.csv")
    assert len(actions) and set(actions["customer_id"]) <= north_ids
    index = (out / "index.html").read_text()
    assert f'href="{PERIOD}/north/strategy_report.html"' in index
    assert f'href="{PERIOD}/strategy_report.html"' in index


def test_a_data_folder_without_clean_tables_is_refused_in_one_line(tmp_path):
    from powerlens.errors import MissingInput

    data = tmp_path / "empty"
    data.mkdir()
    with pytest.raises(MissingInput, match="no clean tables in .*: import or validate a source first"):
        render_period(data, tmp_path / "reports", top_n=20)
    assert not (data / "snapshots").exists() and not (tmp_path / "reports").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("raised", "expected", "at_end"), [
    ('raise RuntimeError("deliberate report failure")', "ReportNotebookBug", True),
    ('from powerlens.errors import MissingInput\nraise MissingInput("deliberate report failure")', "ReportFailed", False),
])
def test_failing_notebook_raises_and_keeps_it(tmp_path, raised, expected, at_end):
    """A notebook that stops on one of our errors is a one-line ReportFailed; on anything else
    it is a bug (ReportNotebookBug, not a PowerlensError) that carries the cell's traceback.
    Either names the section it stopped in (the last heading shown above the failing cell)."""
    from powerlens.errors import PowerlensError

    nb = jupytext.read(NOTEBOOK)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(len(nb.cells) if at_end else at + 1, nbformat.v4.new_code_cell(raised))
    broken = tmp_path / "broken_report.py"
    jupytext.write(nb, broken, fmt="py:percent")
    data = build_data(tmp_path / "data")
    with pytest.raises((rendering.ReportFailed, rendering.ReportNotebookBug)) as err:
        render_period(data, tmp_path / "reports", notebook=broken)
    assert type(err.value).__name__ == expected
    assert isinstance(err.value, PowerlensError) == (expected == "ReportFailed")
    kept = err.value.notebook
    assert kept.exists() and str(kept) in str(err.value)
    if expected == "ReportNotebookBug":
        assert "Traceback" in str(err.value) or "Cell In" in str(err.value)
    executed = nbformat.read(kept, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and "deliberate report failure" in errors[0]["evalue"]
    assert not (tmp_path / "reports" / PERIOD / "strategy_report.html").exists()
    section = rendering.failed_section(executed)
    if at_end:  # after every section: the last heading the report showed
        assert section and f"failed in section {section}: RuntimeError" in str(err.value)
    else:
        assert "failed: MissingInput: deliberate report failure" in str(err.value)


def test_split_prints_do_not_change_the_report(tmp_path):
    """The kernel may flush a cell's prints as one message or several (timing): the executed
    notebook keeps them as one stream, so a re-render of the same period is the same file."""
    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Plan of 2026-08-01:\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="collection_plan: ...\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="after\n")]
    whole = nbformat.v4.new_code_cell("print(...)")
    whole.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                            text="Plan of 2026-08-01:\ncollection_plan: ...\n"),
                     nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                     nbformat.v4.new_output("stream", name="stdout", text="after\n")]
    split = rendering._without_run_metadata(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "a.ipynb")
    once = rendering._without_run_metadata(nbformat.v4.new_notebook(cells=[whole]), tmp_path / "a.ipynb")
    assert nbformat.writes(split) == nbformat.writes(once)
    assert rendering.to_offline_html(split) == rendering.to_offline_html(once)


@pytest.mark.slow
def test_report_notebook_imports_no_computing_code_and_writes_nothing(rendered, tmp_path):
    """The report presents the snapshot: no feature building, segmentation, training, scoring
    or MLflow in its kernel, and no file written by the notebook itself."""
    import papermill as pm

    snapshot = rendered["data"] / "snapshots" / PERIOD
    before = {p: p.stat().st_mtime_ns for p in snapshot.iterdir()}
    nb = jupytext.read(NOTEBOOK)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys\nprint('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in "
        "('powerlens', 'sklearn', 'lightgbm', 'mlflow', 'optuna', 'dask')))"))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    pm.execute_notebook(nb, str(tmp_path / "out.ipynb"), parameters={"snapshot_dir": str(snapshot), "top_n": 5},
                        kernel_name="python3", language="python", cwd=str(workdir), progress_bar=False)
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    loaded = eval(text.split("LOADED", 1)[1])  # noqa: S307 - the list the cell printed
    assert "powerlens.snapshots.store" in loaded and "powerlens.report.tables" in loaded
    computing = [m for m in loaded if m.split(".")[0] in ("sklearn", "lightgbm", "mlflow", "optuna", "dask")
                 or m.startswith(("powerlens.features", "powerlens.risk", "powerlens.segmentation",
                                  "powerlens.jobs", "powerlens.snapshots.build", "powerlens.snapshots.state",
                                  "powerlens.snapshots.kpis", "powerlens.strategy", "powerlens.tracking"))]
    assert computing == []
    assert list(workdir.iterdir()) == []
    assert {p: p.stat().st_mtime_ns for p in snapshot.iterdir()} == before


# --------------------------------------------------------------------------- languages, PDF, landing page


def test_each_language_has_its_own_file_names_and_an_unknown_one_is_one_line():
    from powerlens.errors import PowerlensError

    assert rendering.report_stem("en") == "strategy_report"
    assert rendering.report_stem("zh") == "strategy_report.zh"
    assert rendering.page_name("zh") == "strategy_report.zh.html"
    with pytest.raises(PowerlensError, match="unknown report language 'fr': use one of en, zh"):
        rendering.report_stem("fr")


def _executed(*cells):
    """A notebook as papermill leaves it: ("md", text), ("html", html) output, ("ok",), ("error",)."""
    made = []
    for kind, *rest in cells:
        if kind == "md":
            made.append(nbformat.v4.new_markdown_cell(rest[0]))
            continue
        cell = nbformat.v4.new_code_cell("...")
        if kind == "html":
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": rest[0]})]
        elif kind == "error":
            cell.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])]
        made.append(cell)
    return nbformat.v4.new_notebook(cells=made)


def test_a_failed_render_names_the_section_of_the_failing_cell():
    nb = _executed(("md", "# Strategy report"), ("html", '<h2 id="sec-kpis">1. KPIs &amp; trends</h2>'),
                   ("ok",), ("html", "<h3>no id</h3><p>text</p>"), ("error",), ("html", '<h2 id="sec-plan">7.</h2>'))
    assert rendering.failed_section(nb) == "'no id'"
    nb.cells.pop(3)  # the nearest heading is now the KPIs one, with its stable id
    assert rendering.failed_section(nb) == "'1. KPIs & trends' (#sec-kpis)"
    assert rendering.failed_section(_executed(("md", "intro\n## 2. Pareto"), ("error",))) == "'2. Pareto'"
    assert rendering.failed_section(_executed(("ok",), ("error",))) is None  # before any heading
    assert rendering.failed_section(_executed(("md", "# Title"), ("ok",))) is None  # nothing failed


PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>p { color: #000 }</style></head>
<body><h2 id="sec-kpis">大客户 &amp; KPIs</h2><p>电费回收率：95%</p><img src="data:image/png;base64,AAAA" alt="图表"></body></html>"""


def test_a_page_with_chinese_carries_exactly_the_glyphs_it_shows():
    import base64
    import io

    from fontTools.ttLib import TTFont

    page = rendering.with_cjk_font(PAGE)
    assert rendering.with_cjk_font(PAGE) == page  # the same bytes each time: no timestamp in the subset
    face = re.search(r"src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", page)
    assert face and page.index('id="pl-cjk-font"') < page.index("</head>")
    font = TTFont(io.BytesIO(base64.b64decode(face.group(1))))
    assert set(map(chr, font.getBestCmap())) == set("大客户电费回收率：图表")
    assert f"--jp-content-font-family: '{rendering.CJK_FONT_FAMILY}'," in page
    assert "http" not in page and "url(http" not in page
    latin = PAGE.replace("大客户", "Big").replace("电费回收率：", "Paid").replace("图表", "chart")
    assert rendering.with_cjk_font(latin) == latin  # nothing to embed


def _page_with_summary(*sentences: tuple[str, str]) -> str:
    items = "".join(f'<li>{html.escape(s)} <a href="#{a}">(see)</a></li>' for s, a in sentences)
    return f'<html><body><h2 id="sec-summary">Summary</h2><ul class="pl-summary">{items}</ul></body></html>'


def test_the_landing_page_shows_the_latest_summary_and_links_every_report(tmp_path):
    out = tmp_path / "reports"
    old, new, north = out / "2026-09", out / "2026-10", out / "2026-10" / "north<&>"
    for folder in (old, new, north):
        folder.mkdir(parents=True)
    (old / "strategy_report.html").write_text(_page_with_summary(("September said this.", "sec-kpis")))
    (new / "strategy_report.html").write_text(_page_with_summary(
        ("Energy <up> 5% & more.", "sec-kpis"), ("The plan lists 9 customers.", "sec-plan")))
    (new / "strategy_report.zh.html").write_text(_page_with_summary(("本月售电量增长5%。", "sec-kpis")), encoding="utf-8")
    (new / "strategy_report.zh.pdf").write_bytes(b"%PDF-1.4")
    (new / "actions.csv").write_text("customer_id\n")
    (north / "strategy_report.zh.html").write_text("<html></html>", encoding="utf-8")
    (out / "2026-11").mkdir()  # nothing rendered: not listed
    (out / "notes").mkdir()

    index = rendering.write_index(out).read_text(encoding="utf-8")
    assert "Energy &lt;up&gt; 5% &amp; more." in index and "<up>" not in index
    assert 'href="2026-10/strategy_report.html#sec-plan"' in index
    assert "本月售电量增长5%。" in index and 'href="2026-10/strategy_report.zh.html#sec-kpis"' in index
    assert "September said this." not in index  # only the latest period's summary
    for href in ("2026-10/strategy_report.html", "2026-10/strategy_report.zh.html", "2026-10/strategy_report.zh.pdf",
                 "2026-10/actions.csv", "2026-09/strategy_report.html", "2026-10/north&lt;&amp;&gt;/strategy_report.zh.html"):
        assert f'href="{href}"' in index, href
    assert "2026-11" not in index and "notes" not in index
    assert index.index("2026-10/strategy_report.html") < index.index("2026-09/strategy_report.html")


def test_pdf_without_chromium_names_the_package(tmp_path, monkeypatch):
    from powerlens.errors import PowerlensError

    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without Chromium
    with pytest.raises(PowerlensError, match=r"--pdf needs Chromium.*apt-get install chromium"):
        rendering.chromium_path()
