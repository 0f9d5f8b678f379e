"""The rendered report in a real browser: headless Chromium opens the HTML from disk, takes a
screenshot, shows every section, loads every image, and makes no request off the machine.

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

from support import SECTIONS, build_data, render_period

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
