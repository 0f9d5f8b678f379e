"""What the rendered report shows, read from its HTML as a browser would parse it: strings from
data and configuration are escaped (no live markup), no count of 1 to min_group_size - 1
customers appears in any count cell of any table, and probabilities have honest precision.

One render of a small hand-built data folder whose region, industry, load-shape name, reasons
and playbook texts are markup, with risk scores at 0 and 1, and a region of 4 customers.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from support import PERIOD, ROOT, SECTIONS, build_data, render_period

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SHAPE = '<b onmouseover="alert(2)">evening peak</b>'
WHY = '<iframe src="javascript:alert(3)"></iframe>'
DESCRIPTION = "<svg onload=alert(4)>"
MIN_GROUP = 10

# the columns (or KPI rows) whose cells are the sizes of groups of customers
COUNT_COLUMNS = {"customers", "measured", "big", "latent big", "positives", "n"}
COUNT_ROWS = {"active accounts"}
PROBABILITY = re.compile(r"^(< 1%|> 99%|\d\.\d%|[1-9]\d%)$")


class Page(HTMLParser):
    """Tables (head and body rows of (tag, text) cells), scripts, tags, attributes and text."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tables: list[dict[str, list]] = []
        self.scripts: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._script: list[str] | None = None
        self._row: list | None = None
        self._cell: list | None = None
        self._part = "body"
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = []
        elif tag == "table":
            self.tables.append({"head": [], "body": []})
            self._part = "body"
        elif tag in ("thead", "tbody"):
            self._part = "head" if tag == "thead" else "body"
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = [tag, ""]

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None
        elif tag in ("th", "td") and self._cell is not None and self._row is not None:
            self._row.append((self._cell[0], " ".join(self._cell[1].split())))
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1][self._part].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)
        if self._cell is not None:
            self._cell[1] += data
        self.text.append(data)

    def cells(self):
        """(table number, column label, row label, text) of every data cell; data cells align
        with the last column labels of the first head row (pandas' layout)."""
        for number, table in enumerate(self.tables):
            labels = [text for _, text in table["head"][0]] if table["head"] else []
            for row in table["body"]:
                values = [text for tag, text in row if tag == "td"]
                row_label = " / ".join(text for tag, text in row if tag == "th")
                for label, value in zip(labels[len(labels) - len(values):], values, strict=True):
                    yield number, label, row_label, value

    def table_with(self, *columns: str) -> list[dict]:
        """The tables whose column labels include all of `columns`, as rows of {label: text}."""
        found = []
        for table in self.tables:
            labels = [text for _, text in table["head"][0]] if table["head"] else []
            if set(columns) <= set(labels):
                rows = []
                for row in table["body"]:
                    values = [text for tag, text in row if tag == "td"]
                    rows.append(dict(zip(labels[len(labels) - len(values):], values, strict=True)))
                found.append(rows)
        return found


def live_markup(page: Page) -> list[str]:
    """Everything in a parsed page that a browser would run or load from injected markup."""
    found = [f"script: {s[:60]}" for s in page.scripts if "alert" in s]
    found += [f"{tag} {name}={value}" for tag, attrs in page.tags for name, value in attrs.items()
              if name.lower().startswith("on")]
    found += [f"{tag}" for tag, _ in page.tags if tag in ("iframe", "svg", "object", "embed")]
    found += [f"img {attrs.get('src', '')[:40]}" for tag, attrs in page.tags
              if tag == "img" and not str(attrs.get("src", "")).startswith("data:image/png;base64,")]
    found += [f"{tag} {name}={value}" for tag, attrs in page.tags for name, value in attrs.items()
              if str(value or "").strip().lower().startswith("javascript:")]
    return found


def small_counts(page: Page, min_group_size: int) -> list[tuple]:
    """Counts of 1 to min_group_size - 1 customers in count cells: count columns, the count rows
    of the KPI table, every cell of the migration matrix, and "N customers" in any cell."""
    bad, checked = [], 0
    migration = {n for n, t in enumerate(page.tables) if t["head"] and t["head"][0][0][1] == "this period"}
    for number, label, row_label, value in page.cells():
        numbers = []
        if label in COUNT_COLUMNS or number in migration or (label == PERIOD and row_label in COUNT_ROWS):
            numbers.append(value)
        numbers += re.findall(r"(?<![<\d,.])(\d[\d,]*) customers\b", value)
        for text in numbers:
            checked += 1
            digits = text.replace(",", "")
            if digits.isdigit() and 0 < int(digits) < min_group_size:
                bad.append((number, label, row_label, value))
    return bad if checked else [("no count cell found",)]


def hostile_data(base: Path) -> tuple[Path, Path]:
    """build_data with markup in every string that reaches the report from data or the
    playbook, extreme scores (and last period's, for drift), model metrics with 4 positives,
    and a region of 4 customers."""
    data = build_data(base / "data")
    clean = data / "clean"
    customers = pd.read_parquet(clean / "customers.parquet")
    n = len(customers)
    customers["region"] = [SCRIPT if i < 26 else "south" if i < 36 else "tiny" for i in range(n)]
    customers["industry"] = IMG
    customers.to_parquet(clean / "customers.parquet")

    segments = pd.read_parquet(data / "segments/segments.parquet")
    segments["load_shape"] = segments["load_shape"].replace({"evening peak": SHAPE})
    segments["latent_big_reason"] = f"industry {IMG}; capacity increase requested"
    segments.to_parquet(data / "segments/segments.parquet")
    profiles = pd.read_parquet(data / "segments/profiles.parquet")
    profiles["load_shape"] = profiles["load_shape"].replace({"evening peak": SHAPE})
    profiles.to_parquet(data / "segments/profiles.parquet")

    scores = pd.read_parquet(data / "scores/scores.parquet")
    churn, arrears = scores["task"] == "churn", scores["task"] == "arrears"
    scores.loc[churn & (scores["rank"] == 1), "score"] = 1.0
    scores.loc[churn & (scores["rank"] == 2), "score"] = 0.99996
    scores.loc[churn & (scores["rank"] == 3), "score"] = 0.5
    scores.loc[churn & (scores["rank"] == 4), "score"] = 0.0437
    scores.loc[arrears, "score"] = scores.loc[arrears, "score"] / 200  # all below 1%
    scores.loc[churn, "reasons"] = f"industry of the account: {IMG} (+)"
    scores.to_parquet(data / "scores/scores.parquet")
    scores.assign(score=scores["score"] * 0.9).to_parquet(data / "scores/scores_previous.parquet")  # drift

    for task in ("churn", "arrears"):
        path = data / "models" / task / "metrics.json"
        metrics = json.loads(path.read_text())
        for family in metrics["families"].values():
            family.update(positives=4, n=200)
        path.write_text(json.dumps(metrics))

    book = yaml.safe_load((ROOT / "playbook.yaml").read_text())
    book["tiers"]["high"]["A"]["why"] = WHY
    book["actions"][0]["description"] = DESCRIPTION
    playbook = base / "playbook.yaml"
    playbook.write_text(yaml.safe_dump(book, sort_keys=False))
    return data, playbook


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("hostile")
    data, playbook = hostile_data(base)
    out = base / "reports"
    rendered = {}
    for region in (None, SCRIPT, "tiny"):
        html = render_period(data, out, region=region, min_group_size=MIN_GROUP, playbook=playbook)
        rendered[region or "all"] = html.read_text(encoding="utf-8")
    rendered["index"] = (out / "index.html").read_text(encoding="utf-8")
    return rendered


def test_the_checks_catch_live_markup_and_small_counts():
    """Control: the same checks on a page with unescaped markup and a small count find them."""
    page = Page(f"<p>{SCRIPT}{IMG}{SHAPE}{WHY}{DESCRIPTION}</p>"
                "<table><thead><tr><th></th><th>customers</th></tr></thead>"
                "<tbody><tr><th>a</th><td>3</td></tr><tr><th>b</th><td>12 customers, 5%</td></tr></tbody></table>"
                "<table><thead><tr><th>credit_grade</th><th>A</th></tr></thead>"
                "<tbody><tr><th>high</th><td>7 customers, 1.0% of revenue</td></tr></tbody></table>")
    assert len(live_markup(page)) == 8  # script, 3 handlers, iframe, svg, img src=x, javascript: URL
    assert small_counts(page, 10) == [(0, "customers", "a", "3"), (1, "A", "high", "7 customers, 1.0% of revenue")]


@pytest.mark.slow
def test_strings_from_data_and_playbook_are_escaped(pages):
    for name, html in pages.items():
        page = Page(html)
        assert live_markup(page) == [], name
        assert "Traceback" not in html, name
    whole, region = Page(pages["all"]), Page(pages[SCRIPT])
    text = "".join(whole.text)
    # the strings are shown, as text
    for shown in (IMG, SHAPE, WHY, DESCRIPTION):
        assert shown in text, shown
        assert shown not in pages["all"]  # never as raw markup in the source
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[SCRIPT]
    assert f"region: {SCRIPT}" in "".join(region.text)
    assert f"Strategy report {PERIOD} — {SCRIPT}" in "".join(region.text)  # the page title
    assert SCRIPT not in pages[SCRIPT] and SCRIPT not in pages["index"]
    for section in SECTIONS:
        assert section in text


@pytest.mark.slow
def test_no_count_below_the_threshold_in_any_count_cell(pages):
    """Every table cell that counts customers (tier matrix, classes, load shapes, migration,
    review groups, model validation positives, the KPI of active accounts) shows a count of 1
    to min_group_size - 1 as "<10". Numerators of rates over groups at or above the threshold
    (the review's "with outcome", the KPIs' closed accounts and thefts) and the action summary's
    list lengths (each listed customer is shown row by row anyway) are not group sizes."""
    suppressed = 0
    for name in ("all", SCRIPT, "tiny"):
        page = Page(pages[name])
        assert small_counts(page, MIN_GROUP) == [], name
        suppressed += sum(value.startswith(f"<{MIN_GROUP}") for _, label, _, value in page.cells()
                          if label in COUNT_COLUMNS)
    assert suppressed >= 3  # there were small groups to suppress
    # nor in the text around the tables: "top 5 of 7 scored customers" tells a small region's size
    for name in ("all", SCRIPT, "tiny"):
        said = re.findall(r"\bof (\d[\d,]*) (?:scored customers|$)", pages[name], flags=re.M)
        assert all(int(n.replace(",", "")) >= MIN_GROUP for n in said), (name, said)
    comparison = Page(pages["all"]).table_with("ROC-AUC", "positives")
    assert comparison and all(row["positives"] == f"<{MIN_GROUP}" for row in comparison[0])


@pytest.mark.slow
def test_probabilities_have_honest_precision(pages):
    page = Page(pages["all"])
    lists = page.table_with("rank", "probability", "reasons")
    assert len(lists) == 2  # churn and arrears (no theft scores)
    churn, arrears = lists
    shown = [row["probability"] for row in churn]
    assert shown[:4] == ["> 99%", "> 99%", "50%", "4.4%"]
    assert all(PROBABILITY.match(p) for p in shown), shown
    assert {row["probability"] for row in arrears} == {"< 1%"}
    for table in lists:
        assert [int(row["rank"]) for row in table] == sorted(int(row["rank"]) for row in table)
    for number, label, _, value in page.cells():
        if label in ("probability", "mean score now", "mean score last period"):
            assert not re.fullmatch(r"[01]\.0+", value), (number, label, value)
    drift = page.table_with("mean score now")
    assert drift and all(row["mean score now"].endswith("%") for row in drift[0])


def test_probability_text():
    from powerlens.report.tables import count_text
    from powerlens.rules import probability_text

    assert [probability_text(p) for p in (1.0, 0.99996, 0.991, 0.99, 0.5, 0.1234, 0.0996, 0.0437, 0.01,
                                          0.0099, 0.0, None, float("nan"))] == [
        "> 99%", "> 99%", "> 99%", "99%", "50%", "12%", "10%", "4.4%", "1.0%", "< 1%", "< 1%", "–", "–"]
    assert [count_text(n, 10) for n in (0, 1, 9, 10, 12345, None)] == ["0", "<10", "<10", "10", "12,345", "–"]
