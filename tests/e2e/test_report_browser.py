"""The rendered report in a real browser: headless Chromium opens the HTML from disk, takes a
screenshot, shows every section, loads every image, and makes no request off the machine; the
English and Chinese reports read as issue 17 asks (summary first, contents that reach every
section, nothing wider than 1280 px, charts with alt text, no pandas truncation, Chinese
headings drawn by the embedded font) and their PDFs have a page per section.

Requests are read from Chromium's NetLog (--log-net-log): every request the page starts is
logged there with its URL and the page as initiator, so the page's requests must all be file:
or data: URLs. Chromium's own background requests (update checks, sign-in) are not the page's;
they go to a dead local proxy so that nothing leaves the machine during the test either. A
control page with a remote image and stylesheet shows that the NetLog check catches them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from support import NOTEBOOK, PERIOD, SECTION_IDS, SECTIONS, build_data, render_period

pytestmark = pytest.mark.slow


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


IMAGE_PROBE = """<script>
addEventListener("load", () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0);
  document.body.setAttribute("data-images", imgs.length + ":" + ok.length);
});
</script>
"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if path is None:
        message = "chromium not installed (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def run_chromium(url: str, *extra: str, timeout: int = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions",
               f"--user-data-dir={profile}", "--virtual-time-budget=5000",
               # the browser's own background traffic goes nowhere (port 9 on loopback)
               "--proxy-server=socks5://127.0.0.1:9", *extra, url]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def netlog_requests(path: Path) -> list[dict]:
    """(url, initiator) of every request Chromium started, from its NetLog."""
    log = json.loads(path.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        {"url": e["params"]["url"], "initiator": e["params"].get("initiator", "")}
        for e in log["events"]
        if e["type"] == start_job and "url" in e.get("params", {})
    ]


def page_requests(requests: list[dict]) -> list[str]:
    """URLs the page itself asked for (the browser's own requests have no initiator)."""
    return [r["url"] for r in requests if r["initiator"] != "not an origin"]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    chromium()
    base = tmp_path_factory.mktemp("browser")
    data = build_data(base / "data")
    return render_period(data, base / "reports")


def test_screenshot_and_no_request_leaves_the_machine(report, tmp_path):
    shot, netlog = tmp_path / "report.png", tmp_path / "netlog.json"
    run_chromium(report.as_uri(), f"--screenshot={shot}", "--window-size=1300,4000",
                 f"--log-net-log={netlog}")
    data = shot.read_bytes()
    assert png_size(data) == (1300, 4000)
    assert len(data) > 50_000  # text, tables and plots, not a blank page
    from PIL import Image

    with Image.open(shot) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 100

    requests = netlog_requests(netlog)
    offsite = [u for u in page_requests(requests) if not u.startswith(("file:", "data:"))]
    assert offsite == []


def test_netlog_check_catches_remote_requests(tmp_path):
    """Control: a page with a remote image and stylesheet is caught by the same check."""
    page, netlog = tmp_path / "control.html", tmp_path / "netlog.json"
    page.write_text('<html><body><h1>control</h1><img src="http://127.0.0.1:1/probe.png">'
                    '<link rel="stylesheet" href="https://example.invalid/x.css"></body></html>')
    run_chromium(page.as_uri(), "--dump-dom", f"--log-net-log={netlog}")
    offsite = [u for u in page_requests(netlog_requests(netlog))
               if not u.startswith(("file:", "data:"))]
    assert set(offsite) == {"http://127.0.0.1:1/probe.png", "https://example.invalid/x.css"}


def test_sections_render_and_every_image_loads(report, tmp_path):
    page = report.read_text(encoding="utf-8")
    # every image is embedded: a base64 PNG with a real size
    sources = re.findall(r'<img[^>]*\bsrc="([^"]*)"', page)
    assert len(sources) >= 3
    for src in sources:
        assert src.startswith("data:image/png;base64,"), src[:60]
        width, height = png_size(base64.b64decode(src.split(",", 1)[1], validate=True))
        assert width > 0 and height > 0

    # and the browser decodes every one of them (a copy of the page with a probe script)
    probe = tmp_path / report.name
    probe.write_text(page.replace("</body>", IMAGE_PROBE + "</body>"), encoding="utf-8")
    dom = run_chromium(probe.as_uri(), "--dump-dom").stdout
    loaded = re.search(r'data-images="(\d+):(\d+)"', dom)
    assert loaded, "the probe did not run"
    assert int(loaded.group(1)) == len(sources) and loaded.group(2) == loaded.group(1)

    headings = [re.sub(r"<[^>]+>", "", h).replace("¶", "").strip()
                for h in re.findall(r"<h2[^>]*>(.*?)</h2>", dom, flags=re.S)]
    for section in SECTIONS:
        assert any(h.startswith(section) for h in headings), (section, headings)
    assert "Traceback" not in dom


# A page script that writes what the "Done when" asks into the DOM (read with --dump-dom)
LAYOUT_PROBE = """<script>
addEventListener("load", () => { setTimeout(() => {
  const r = {};
  const headings = [...document.querySelectorAll("h1, h2, h3")];
  const sectionHeads = headings.filter(h => h.tagName === "H2" && h.id && !["sec-summary", "sec-contents"].includes(h.id));
  const summary = document.querySelector("ul.pl-summary");
  r.summaryFirst = !!summary && sectionHeads.length > 0 &&
    !!(summary.compareDocumentPosition(sectionHeads[0]) & Node.DOCUMENT_POSITION_FOLLOWING);
  const toc = [...document.querySelectorAll("nav .pl-contents a[href^='#']")].map(a => a.getAttribute("href").slice(1));
  r.tocLinks = toc.length;
  r.tocMissing = toc.filter(id => !document.getElementById(decodeURIComponent(id)));
  r.unreachable = sectionHeads.map(h => h.id).filter(id => !toc.includes(id));
  r.pageWidth = document.documentElement.scrollWidth;
  r.wide = [...document.body.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > 1280.5)
    .slice(0, 5).map(e => e.tagName + "." + e.className);
  const imgs = [...document.images];
  r.images = imgs.length;
  r.imagesWithoutAlt = imgs.filter(i => !(i.getAttribute("alt") || "").trim() || i.alt === "figure").length;
  const text = document.body.innerText;
  r.truncated = /\\d+ rows × \\d+ columns|\\d+ rows x \\d+ columns/.test(text) ||
    [...document.querySelectorAll("td, th")].some(c => c.textContent.trim() === "...");
  r.englishHeadings = headings.map(h => h.textContent.replace("¶", "").trim()).filter(t => !/[\\u3400-\\u9fff]/.test(t));
  r.headings = headings.map(h => h.textContent.replace("¶", "").trim());
  // WCAG contrast of every element's own text against the background it is drawn on
  const rgba = c => { const m = (c.match(/[\\d.]+/g) || ["0", "0", "0", "0"]).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const backdrop = e => { for (let n = e; n; n = n.parentElement) { const c = rgba(getComputedStyle(n).backgroundColor); if (c[3] > 0) return c; } return [255, 255, 255, 1]; };
  const lum = c => { const ch = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]; };
  const low = [];
  for (const e of document.body.querySelectorAll("*")) {
    if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(e);
    if (st.visibility === "hidden" || st.display === "none" || e.closest("script, style")) continue;
    const bg = backdrop(e), fg = rgba(st.color);
    const seen = [0, 1, 2].map(i => fg[i] * fg[3] + bg[i] * (1 - fg[3]));  // a translucent colour over its backdrop
    const a = lum(seen), b = lum(bg), ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(e.tagName + "." + e.className + " " + ratio.toFixed(2) + ": " + e.textContent.trim().slice(0, 30));
  }
  r.lowContrast = low.slice(0, 10);
  r.text = text;
  document.body.setAttribute("data-probe", JSON.stringify(r));
}, 300); });
</script>
"""


def probe_layout(page: Path, tmp_path: Path) -> dict:
    """Open a copy of the page with the probe in a 1280 px wide window; what the probe found."""
    import html as html_lib

    copy = tmp_path / f"probe-{page.name}"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", LAYOUT_PROBE + "</body>"), encoding="utf-8")
    dom = run_chromium(copy.as_uri(), "--dump-dom", "--window-size=1280,900").stdout
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, "the probe did not run"
    return json.loads(html_lib.unescape(found.group(1)))


def pdf_pages(path: Path) -> int:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    try:
        from pypdf import PdfReader
    except ImportError:  # count the page objects (Chromium writes them uncompressed)
        return len(re.findall(rb"/Type\s*/Page\b", data))
    return len(PdfReader(str(path)).pages)


@pytest.fixture(scope="module")
def both_languages(report) -> dict[str, Path]:
    """The English report (with its PDF) and the Chinese one (with its PDF) of the same snapshot."""
    from powerlens.report.rendering import render

    out, data = report.parents[1], report.parents[2] / "data"
    snapshot = data / "snapshots" / PERIOD
    return {language: render(PERIOD, snapshot, out, NOTEBOOK, language=language, pdf=True)
            for language in ("en", "zh")}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_report_reads_in_five_minutes_in_either_language(both_languages, language, tmp_path):
    page = both_languages[language]
    assert page.name == ("strategy_report.html" if language == "en" else "strategy_report.zh.html")
    r = probe_layout(page, tmp_path)
    assert r["summaryFirst"], r["headings"][:5]
    assert r["tocLinks"] >= len(SECTION_IDS) and r["tocMissing"] == [] and r["unreachable"] == []
    assert r["pageWidth"] <= 1280 and r["wide"] == []
    # the "at least 8 charts", on the small data (no regional section: 9 charts; a full
    # build of the default utility has 14)
    assert r["images"] >= 8 and r["imagesWithoutAlt"] == 0
    assert not r["truncated"]
    assert r["lowContrast"] == [], r["lowContrast"]  # WCAG AA: text at least 4.5:1 against its background
    if language == "zh":
        assert r["englishHeadings"] == [], r["englishHeadings"]
    else:
        assert any(h.startswith(SECTIONS[0]) for h in r["headings"])

    # the PDF: A4, a page break before each section, so at least a page per section
    pdf = page.with_suffix(".pdf")
    assert pdf_pages(pdf) >= len(SECTION_IDS)
    assert b"/MediaBox [0 0 594.95996 841.91998]" in pdf.read_bytes()


def test_every_chinese_character_is_drawn_by_the_embedded_font(both_languages):
    import io

    from fontTools.ttLib import TTFont

    from powerlens.report.rendering import is_cjk, page_text_characters

    page = both_languages["zh"].read_text(encoding="utf-8")
    shown = {c for c in page_text_characters(page) if is_cjk(c)}
    assert len(shown) > 50  # a Chinese report, not a few words
    face = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", page)
    assert face, "no embedded CJK font"
    covered = set(map(chr, TTFont(io.BytesIO(base64.b64decode(face.group(1)))).getBestCmap()))
    assert shown <= covered, sorted(shown - covered)[:20]
    assert "Powerlens CJK" in page.split("</head>")[0]
    english = both_languages["en"].read_text(encoding="utf-8")
    assert "data:font/woff" not in english  # nothing Chinese to draw there


def test_the_landing_page_links_both_languages_and_the_pdfs(both_languages):
    index = (both_languages["en"].parents[1] / "index.html").read_text(encoding="utf-8")
    for name in ("strategy_report.html", "strategy_report.zh.html", "strategy_report.pdf", "strategy_report.zh.pdf"):
        assert f'href="{PERIOD}/{name}"' in index, name
    assert 'class="summary"' in index and f'href="{PERIOD}/strategy_report.zh.html#sec-' in index
