"""The rendered report in English and in Chinese, read from its HTML: the Chinese one has no
English heading, both have the same heading ids (so the contents and the summary link in both),
every chart has alt text in the report's language, no table is cut by pandas, prose is
paragraphs (no printed text blocks), and numbers carry their units."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from support import PERIOD, SECTION_IDS, SECTIONS, build_data, render_period

CJK = re.compile(r"[\u3400-\u9fff]")


class Outline(HTMLParser):
    """Headings (tag, id, text), image alts, ids, in-page links and preformatted blocks."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[str, str | None, str]] = []
        self.alts: list[str | None] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.pre = 0
        self._heading: list | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag in ("h1", "h2", "h3"):
            self._heading = [tag, a.get("id"), ""]
        elif tag == "img":
            self.alts.append(a.get("alt"))
        elif tag == "a" and str(a.get("href", "")).startswith("#"):
            self.links.append(a["href"][1:])
        elif tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append((self._heading[0], self._heading[1], " ".join(self._heading[2].split())))
            self._heading = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[2] += data


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, str]:
    from powerlens.paths import DataPaths
    from powerlens.report.rendering import render
    from support import NOTEBOOK

    base = tmp_path_factory.mktemp("language")
    data = build_data(base / "data")
    out = base / "reports"
    english = render_period(data, out)  # makes the snapshot too
    chinese = render(PERIOD, DataPaths(data).snapshot_dir(PERIOD), out, NOTEBOOK, language="zh",
                     parameters={"currency": "元"})
    return {"en": english.read_text(encoding="utf-8"), "zh": chinese.read_text(encoding="utf-8")}


@pytest.mark.slow
def test_the_chinese_report_has_no_english_heading_and_the_same_ids(pages):
    english, chinese = Outline(pages["en"]), Outline(pages["zh"])
    english_headings = [h for h in english.headings if h[1]]
    assert [text for _, _, text in chinese.headings if not CJK.search(text)] == []
    assert [(tag, i) for tag, i, _ in chinese.headings] == [(tag, i) for tag, i, _ in english.headings]
    ids = [i for _, i, _ in english_headings]
    assert ids[:3] == ["sec-top", "sec-summary", "sec-contents"] and set(SECTION_IDS) <= set(ids)
    titles = {i: text for _, i, text in english.headings}
    assert [titles[i] for i in SECTION_IDS] == SECTIONS
    for outline in (english, chinese):
        assert outline.links and set(outline.links) <= outline.ids  # every contents and summary link lands
        assert set(SECTION_IDS) <= set(outline.links)


@pytest.mark.slow
def test_charts_have_alt_text_in_the_report_language(pages):
    for language, page in pages.items():
        alts = Outline(page).alts
        assert len(alts) >= 6 and all(a and a.strip() and a != "figure" for a in alts), (language, alts)
        if language == "zh":
            assert all(CJK.search(a) for a in alts), alts


@pytest.mark.slow
def test_no_truncation_no_printed_blocks_and_units(pages):
    for language, page in pages.items():
        assert not re.search(r"\d+ rows × \d+ columns", page), language
        assert "<td>...</td>" not in page and "<th>...</th>" not in page, language
        assert Outline(page).pre == 0, language  # explanations are paragraphs, not printed text
        assert re.search(r"\d (k|M|G)Wh\b", page), language
        assert "Traceback" not in page
    assert re.search(r"[\d,]+ CNY", pages["en"]) and re.search(r"[\d,]+ 元", pages["zh"])
    assert "The first 5 of" in pages["en"] and "仅显示" in pages["zh"]  # long tables cut in words
    assert "居民生活" in pages["zh"] and "用电检查" not in pages["en"]
