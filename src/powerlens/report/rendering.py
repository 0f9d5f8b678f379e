"""Rendering: papermill runs the report notebook on a period's snapshot, nbconvert makes an
HTML page without code that reads fully offline, Chromium prints it to PDF on request, and
`index.html` is the landing page of every report.

`render` executes notebooks/reports/strategy_report.py (a jupytext notebook) for one period
(and optionally one region) in one language into reports/<period>[/<region>]/: the executed
notebook, the HTML page (and its PDF with `pdf=True`) and the action plan as actions.csv (the
snapshot's plan, cut to the region). English is `strategy_report.html`, another language
`strategy_report.<language>.html` (the notebook likewise), so languages never overwrite each
other. The notebook reads the snapshot and writes nothing. Outputs are only rewritten when their
content changes, so re-rendering an unchanged period changes nothing.

A page with Chinese (or other CJK) text carries a subset of the project's CJK font, only the
characters it uses, in an @font-face, so it reads on a machine without CJK fonts and offline.
The kernel runs quietly: its own console output (transport and debugger warnings) goes to a log
that is shown only when the kernel dies; a failing render names the section it failed in.
"""

from __future__ import annotations

import base64
import html
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from powerlens.atomic import write_text
from powerlens.errors import PowerlensError
from powerlens.rules import is_period, period_bounds

REPORT_NAME = "strategy_report"
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}  # how the landing page names each language
CJK_FONT_FAMILY = "Powerlens CJK"  # the embedded font subset's family name in the page
CHROMIUM_PACKAGE = "chromium"  # the Debian/Ubuntu package that provides it
_TMP = ".tmp-"  # powerlens.atomic's mark: a staging folder is a temporary name (atomic.is_temporary)

# The lab template without anything fetched from the network: require.js, MathJax, mermaid
# and the widget manager are CDN scripts; the report needs none of them (plots are PNGs,
# tables are HTML). The lab CSS is inlined by the template itself.
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style id="pl-print">
@page { size: A4; margin: 14mm 12mm; }
@media print {
  h2 { break-before: page; }
  img, svg, tr, li { break-inside: avoid; }
  .jp-InternalAnchorLink, .anchor-link { display: none; }
  body, .jp-Notebook { padding: 0; margin: 0; }
}
</style>
{%- endblock html_head_css -%}
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



def report_languages() -> tuple[str, ...]:
    """The languages the report notebook can be rendered in (the report's catalog)."""
    try:
        from powerlens.report.i18n import LANGUAGES  # the translation catalog, when it exists
    except ImportError:
        return (DEFAULT_LANGUAGE, "zh")
    return tuple(LANGUAGES)


def report_stem(language: str = DEFAULT_LANGUAGE) -> str:
    """strategy_report for English, strategy_report.<language> for another language; an unknown
    language is refused in one line naming the known ones."""
    known = report_languages()
    if language not in known:
        raise PowerlensError(f"unknown report language {language!r}: use one of {', '.join(known)}")
    return REPORT_NAME if language == DEFAULT_LANGUAGE else f"{REPORT_NAME}.{language}"


def render(period: str, snapshot: Path, out_root: Path, notebook: Path, region: str | None = None,
           update_index: bool = True, language: str = DEFAULT_LANGUAGE, pdf: bool = False,
           progress: Callable[[str], Any] | None = None, parameters: dict[str, Any] | None = None) -> Path:
    """Execute the report notebook on a period's snapshot folder (and region) in a language;
    return the HTML.

    The list length and the small-group threshold are the snapshot's own (its manifest), so a
    report cannot show groups its snapshot was not made to suppress.

    Writes <stem>.ipynb, <stem>.html (and <stem>.pdf with `pdf`) and actions.csv into
    report_dir(...), where <stem> is report_stem(language), each only when its content changed
    (run timestamps are left out of the executed notebook), then refreshes <out_root>/index.html
    unless update_index is False. `progress` gets one line per step (execute, convert, pdf);
    `parameters` are further notebook parameters (e.g. the currency from params.yaml).
    On failure the executed notebook is kept as <stem>.failed.ipynb (a previous good report is
    left untouched) and ReportFailed (or ReportNotebookBug) is raised, naming the section.

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

    say = progress or (lambda _msg: None)
    stem = report_stem(language)
    snapshot, out_root, notebook = (Path(p).resolve() for p in (snapshot, out_root, notebook))
    snap = load_snapshot(snapshot, tables=["plan"])  # a missing snapshot fails here, in one line
    plan, top_n, min_group_size = snap.plan, snap.manifest["top_n"], snap.manifest["min_group_size"]
    out_dir = report_dir(out_root, period, region)
    if not notebook.exists():
        raise PowerlensError(f"report notebook not found: {notebook}")
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)  # what killed renders left: their staging folders, temporary files
    for name in (f"{stem}.ipynb", f"{stem}.html", f"{stem}.pdf", f"{stem}.failed.ipynb", "actions.csv"):
        remove_leftovers(out_dir / name)
    (out_dir / f"{stem}.running.ipynb").unlink(missing_ok=True)  # from versions before staging
    nb = jupytext.read(notebook)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nb.metadata.setdefault("kernelspec", {"name": "python3", "language": "python",
                                          "display_name": "Python 3 (ipykernel)"})
    nb.metadata["title"] = f"Strategy report {period}" + (f" — {region}" if region else "")
    # the kernel runs in a staging folder beside out_dir (same depth): a relative path to the
    # snapshot resolves the same from both, and names no machine's folders
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}{_TMP}{os.getpid()}-", dir=out_dir.parent))
    failed = out_dir / f"{stem}.failed.ipynb"
    try:
        notebook_parameters = {**(parameters or {}), "period": period,
                               "snapshot_dir": Path(os.path.relpath(snapshot, staging)).as_posix(),
                               "region": region, "top_n": int(top_n), "min_group_size": int(min_group_size),
                               "language": language}
        running, kernel_log = staging / f"{stem}.ipynb", staging / "kernel.log"
        say(f"executing the report notebook for {period}" + (f", region {region}" if region else "")
            + f" ({language})")
        try:
            with kernel_log.open("wb") as log, _quiet_logger("papermill"):
                pm.execute_notebook(nb, str(running), parameters=notebook_parameters, kernel_name="python3",
                                    language="python", cwd=str(staging), progress_bar=False, log_output=False,
                                    kernel_manager_class=_quiet_kernel_manager(log))
        except Exception as exc:  # noqa: BLE001 - papermill's errors carry the failing cell
            if not running.exists():
                raise
            write_text(failed, running.read_text(encoding="utf-8"))
            detail = getattr(exc, "ename", type(exc).__name__)
            evalue = getattr(exc, "evalue", str(exc))
            executed = nbformat.read(running, as_version=4)
            section = failed_section(executed)
            where = f" in section {section}" if section else ""
            message = f"report {period} ({language}) failed{where}: {detail}: {evalue}"
            if _ours(detail):
                raise ReportFailed(message, failed) from exc
            if not getattr(exc, "ename", None):  # the kernel itself died: what it printed says why
                tail = kernel_log.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise ReportNotebookBug(message, failed, f"{exc}\nkernel output:\n{tail}") from exc
            raise ReportNotebookBug(message, failed, str(exc)) from exc
        executed_path = out_dir / f"{stem}.ipynb"
        executed = _without_run_metadata(nbformat.read(running, as_version=4), executed_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _write_if_changed(executed_path, nbformat.writes(executed) + "\n")
    failed.unlink(missing_ok=True)
    say("converting to HTML" + (" with the CJK font subset" if language != DEFAULT_LANGUAGE else ""))
    html_path = out_dir / f"{stem}.html"
    changed = _write_if_changed(html_path, to_offline_html(executed, language=language))
    if pdf:
        pdf_path = html_path.with_suffix(".pdf")
        if changed or not pdf_path.exists():
            say("printing to PDF (A4) with headless Chromium")
            print_pdf(html_path, pdf_path)
        else:
            say("PDF unchanged")
    if plan is not None:  # the plan the report shows, cut to the region
        shown = plan if region is None else plan[plan["region"].astype(str) == str(region)]
        _write_if_changed(out_dir / "actions.csv", shown.drop(columns=["region"]).to_csv(index=False))
    if update_index:
        write_index(out_root)
    return html_path


@contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Keep a library's log lines (papermill's "Input Notebook", "Passed unknown parameter"...)
    off the console while it runs; errors still reach the caller as exceptions."""
    import logging

    logger = logging.getLogger(name)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def _quiet_kernel_manager(log: Any) -> type:
    """A kernel manager whose kernel writes its own console output (the transport warning, the
    debugger's "frozen modules" note, library noise) into `log` instead of the user's console,
    talks to this process over CurveZMQ-encrypted sockets where pyzmq can, and runs with the
    debugger's file validation off."""
    import zmq
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            if zmq.has("curve") and self._kernel_supports_curve_encryption_safe():
                self.transport_encryption = "auto"

        def _kernel_supports_curve_encryption_safe(self) -> bool:
            try:
                return bool(self._kernel_supports_curve_encryption())
            except Exception:  # noqa: BLE001 - older jupyter_client: no transport encryption
                return False

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            if len(kernel_cmd) > 1 and kernel_cmd[1] == "-m" and "python" in Path(kernel_cmd[0]).name:
                kernel_cmd = [kernel_cmd[0], "-Xfrozen_modules=off", *kernel_cmd[1:]]
            kw["env"] = {**(kw.get("env") or os.environ), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
            kw["stdout"] = kw["stderr"] = log
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


_HEADING = re.compile(r"<h([1-3])\b([^>]*)>(.*?)</h\1>", flags=re.S | re.I)


def failed_section(nb: Any) -> str | None:
    """The section a failed notebook stopped in: the nearest heading above (or in) the cell
    with the error, as 'title' or 'title (#id)'; None when no heading precedes it."""
    cells = list(nb.cells)
    failing = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"
                    and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    if failing is None:
        return None
    for cell in reversed(cells[:failing + 1]):
        found = _cell_headings(cell)
        if found:
            title, anchor = found[-1]
            return f"'{title}'" + (f" (#{anchor})" if anchor else "")
    return None


def _cell_headings(cell: Any) -> list[tuple[str, str | None]]:
    """(title, id) of the headings a cell shows: markdown '#'-lines, or <h1-3> in its HTML output."""
    if cell.get("cell_type") == "markdown":
        return [(m.group(2).strip(), None)
                for m in re.finditer(r"^(#{1,3})\s+(.+)$", cell.get("source", ""), flags=re.M)]
    found = []
    for out in cell.get("outputs", []):
        text = out.get("data", {}).get("text/html", "") if isinstance(out.get("data"), dict) else ""
        text = "".join(text) if isinstance(text, list) else text
        for m in _HEADING.finditer(text):
            anchor = re.search(r"""\bid\s*=\s*["']([^"']+)["']""", m.group(2))
            title = html.unescape(re.sub(r"<[^>]+>", "", m.group(3))).strip()
            found.append((title, anchor.group(1) if anchor else None))
    return found


def print_pdf(html_path: Path, pdf_path: Path, timeout: int = 180) -> Path:
    """Print a rendered page to an A4 PDF with headless Chromium (no header or footer; the
    page's print CSS puts a page break before each section); written atomically."""
    import tempfile

    from powerlens.atomic import atomic_file

    browser = chromium_path()
    with tempfile.TemporaryDirectory(prefix="powerlens-chromium-") as profile, atomic_file(pdf_path) as tmp:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
               "--disable-extensions", f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={tmp}", Path(html_path).resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PowerlensError(f"Chromium did not print {html_path} within {timeout} s") from None
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tail = " ".join(done.stderr.strip().splitlines()[-3:])
            raise PowerlensError(f"Chromium could not print {html_path} to PDF (exit {done.returncode}): {tail}")
    return Path(pdf_path)


def chromium_path() -> str:
    """The headless browser that prints PDFs; a one-line error naming the package when absent."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    raise PowerlensError(f"--pdf needs Chromium, which is not installed: install the "
                         f"'{CHROMIUM_PACKAGE}' package (apt-get install {CHROMIUM_PACKAGE})")


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



def to_offline_html(nb: Any, language: str = DEFAULT_LANGUAGE) -> str:
    """HTML without code, prompts or stderr, and without any network asset; the page's language
    in <html lang>, print CSS for A4, and the CJK font subset when the page has CJK text."""
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
    # the page's language (nbconvert takes ISO 639-1 codes only, and validates them wrongly)
    body = re.sub(r'<html lang="[^"]*"', f'<html lang="{html.escape(_html_lang(language), quote=True)}"', body, count=1)
    # CSS comments of the lab theme cite URLs; drop them so the page holds no URL at all
    body = re.sub(r"<style([^>]*)>(.*?)</style>",
                  lambda m: f"<style{m.group(1)}>{re.sub(r'/[*].*?[*]/', '', m.group(2), flags=re.S)}</style>",
                  body, flags=re.S)
    return with_cjk_font(body)


def _html_lang(language: str) -> str:
    return {"zh": "zh-CN"}.get(language, language)


def is_cjk(char: str) -> bool:
    """Whether a character is CJK (Han, kana, Hangul, CJK punctuation, full-width forms): the
    characters a Latin system font lacks and the embedded font must draw."""
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF
            or 0xFE30 <= code <= 0xFE4F or 0xFF00 <= code <= 0xFFEF or 0x20000 <= code <= 0x3134F)


def page_text_characters(page: str) -> set[str]:
    """The characters a page shows (tags, styles, scripts and embedded images left out)."""
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    text = re.sub(r'src="data:[^"]*"', " ", text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text)) + " ".join(re.findall(r'\balt="([^"]*)"', page))
    return set(html.unescape(text))


def with_cjk_font(page: str) -> str:
    """The page with an @font-face holding a subset of the CJK font (only the CJK characters
    it shows, as a base64 WOFF) put into every font-family chain; unchanged without CJK text."""
    needed = sorted(c for c in page_text_characters(page) if is_cjk(c))
    if not needed:
        return page
    font = subset_font(cjk_font_file(), "".join(needed))
    # the subset first: it has only CJK characters, so Latin text still falls through to the
    # system fonts; placed after them, Chromium draws missing-glyph boxes in the lab theme's text
    # (its fallback stops at the system fonts there)
    first = f"'{CJK_FONT_FAMILY}'"
    families = {
        "--jp-content-font-family": f"{first}, system-ui, -apple-system, blinkmacsystemfont, 'Segoe UI', "
                                    "helvetica, arial, sans-serif",
        "--jp-ui-font-family": f"{first}, system-ui, -apple-system, blinkmacsystemfont, 'Segoe UI', "
                               "helvetica, arial, sans-serif",
        "--jp-code-font-family": f"{first}, menlo, consolas, 'DejaVu Sans Mono', monospace",
    }
    style = ('<style id="pl-cjk-font">\n@font-face { font-family: "' + CJK_FONT_FAMILY + '"; '
             "src: url(data:font/woff;base64," + base64.b64encode(font).decode("ascii") + ') format("woff"); '
             "font-display: block; }\n:root { " + " ".join(f"{k}: {v};" for k, v in families.items()) + " }\n"
             "body { font-family: var(--jp-content-font-family); }\n</style>\n")
    return page.replace("</head>", style + "</head>", 1)


def cjk_font_file() -> Path:
    """The CJK font file the charts use (report.figures.cjk_font_path), also embedded in pages."""
    try:
        from powerlens.report.figures import cjk_font_path
    except ImportError:
        try:
            from powerlens.report.i18n import cjk_font_path  # type: ignore[no-redef]
        except ImportError:
            raise PowerlensError("the page has Chinese text but the project has no CJK font "
                                 "(report.figures.cjk_font_path is missing): reinstall powerlens") from None
    path = Path(cjk_font_path())
    if not path.exists():
        raise PowerlensError(f"the CJK font file {path} is missing: reinstall powerlens")
    return path


def subset_font(font_file: Path, characters: str) -> bytes:
    """The font cut to `characters` (those it has), as WOFF bytes; the same input gives the same
    bytes (no timestamp), so an unchanged report stays the same file."""
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = [1, 2]  # family and style only
    options.notdef_outline = True
    options.hinting = False
    kwargs = {"fontNumber": 0} if font_file.suffix.lower() in (".ttc", ".otc") else {}
    font = TTFont(str(font_file), recalcTimestamp=False, lazy=True, **kwargs)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff"
    font.save(buffer)
    return buffer.getvalue()


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


def rendered_languages(folder: Path) -> list[str]:
    """The languages a report folder holds a page in (English first, then by code)."""
    found = []
    for page in Path(folder).glob(f"{REPORT_NAME}*.html"):
        match = re.fullmatch(rf"{REPORT_NAME}(?:\.([A-Za-z-]+))?\.html", page.name)
        if match:
            found.append(match.group(1) or DEFAULT_LANGUAGE)
    return sorted(set(found), key=lambda lang: (lang != DEFAULT_LANGUAGE, lang))


def page_name(language: str) -> str:
    """The file name of a report page in a language (no check that the language is known)."""
    return f"{REPORT_NAME}.html" if language == DEFAULT_LANGUAGE else f"{REPORT_NAME}.{language}.html"


def summary_sentences(page: str) -> list[tuple[str, str]]:
    """(sentence, section anchor) of a rendered report's executive summary (the notebook's
    `<ul class="pl-summary">`), as plain text: [] when the page has none."""
    block = re.search(r'<ul class="pl-summary"[^>]*>(.*?)</ul>', page, flags=re.S)
    if block is None:
        return []
    sentences = []
    for item in re.findall(r"<li\b[^>]*>(.*?)</li>", block.group(1), flags=re.S):
        anchor = re.search(r'href="#([^"]*)"', item)
        text = re.sub(r"<a\b[^>]*>.*?</a>", "", item, flags=re.S)
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())
        if text:
            sentences.append((text, html.unescape(anchor.group(1)) if anchor else ""))
    return sentences


def write_index(out_root: Path) -> Path:
    """Rewrite <out_root>/index.html: the landing page with the latest period's executive
    summary (read from its rendered reports, in each language rendered) and links to every
    rendered period, region and language (each with its PDF and actions.csv when there)."""
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    rows = []
    periods = sorted(
        (d for d in out_root.iterdir() if d.is_dir() and is_period(d.name)),
        key=lambda d: d.name, reverse=True,
    )
    latest = None
    for pdir in periods:
        links = []
        if rendered_languages(pdir):
            links.append(_index_entry(pdir.name, "all regions", pdir))
            latest = latest or pdir
        for rdir in sorted(d for d in pdir.iterdir() if d.is_dir() and not d.name.startswith(".")):
            if rendered_languages(rdir):
                links.append(_index_entry(f"{pdir.name}/{rdir.name}", rdir.name, rdir))
        if links:
            rows.append(f'<tr><th scope="row">{html.escape(pdir.name)}</th><td><ul class="reports">'
                        + "".join(f"<li>{link}</li>" for link in links) + "</ul></td></tr>")
    body = "\n".join(rows) or '<tr><td colspan="2">no reports rendered yet</td></tr>'
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>powerlens strategy reports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #1a1a1a; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ padding: 0.4em 1em; border-bottom: 1px solid #ccc; text-align: left; vertical-align: top; }}
ul.reports {{ list-style: none; margin: 0; padding: 0; }}
section.summary {{ background: #f4f6f8; border-left: 4px solid #2b6cb0; padding: 0.5em 1.2em; margin-bottom: 2em; }}
a {{ color: #1a4f8b; }}
</style>
</head>
<body>
<h1>Strategy reports</h1>
{_latest_summary(latest)}
<h2>Every report</h2>
<table>
<tr><th scope="col">period</th><th scope="col">reports (HTML by language; PDF and actions.csv where rendered)</th></tr>
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


def _latest_summary(pdir: Path | None) -> str:
    """The latest period's executive summary, in every language it was rendered in."""
    if pdir is None:
        return ""
    parts = []
    for language in rendered_languages(pdir):
        href = f"{pdir.name}/{page_name(language)}"
        sentences = summary_sentences((pdir / page_name(language)).read_text(encoding="utf-8"))
        if not sentences:
            continue
        items = "".join(
            f'<li>{html.escape(text)}'
            + (f' <a href="{html.escape(href + "#" + anchor, quote=True)}">&#8594;</a>' if anchor else "")
            + "</li>" for text, anchor in sentences)
        label = LANGUAGE_NAMES.get(language, language)
        parts.append(f'<div lang="{html.escape(_html_lang(language), quote=True)}"><h3>'
                     f'<a href="{html.escape(href, quote=True)}">{html.escape(label)}</a></h3><ul>{items}</ul></div>')
    if not parts:
        return ""
    return (f'<section class="summary" aria-label="Latest summary"><h2>Summary of {html.escape(pdir.name)} '
            f"(latest period, all regions)</h2>{''.join(parts)}</section>")


def _index_entry(href_dir: str, label: str, folder: Path) -> str:
    """One report folder: its pages by language, each with its PDF, and its actions.csv."""
    links = []
    for language in rendered_languages(folder):
        href = f"{href_dir}/{page_name(language)}"
        link = f'<a href="{html.escape(href, quote=True)}">{html.escape(LANGUAGE_NAMES.get(language, language))}</a>'
        pdf = Path(page_name(language)).with_suffix(".pdf").name
        if (folder / pdf).exists():
            link += f' (<a href="{html.escape(f"{href_dir}/{pdf}", quote=True)}">PDF</a>)'
        links.append(link)
    entry = f"{html.escape(label)}: " + " · ".join(links)
    if (folder / "actions.csv").exists():
        entry += f' · <a href="{html.escape(f"{href_dir}/actions.csv", quote=True)}">actions</a>'
    return entry
