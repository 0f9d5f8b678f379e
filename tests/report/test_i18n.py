"""The report's catalog in English and Chinese, the font that draws the Chinese, and the curated
tables: every entry in both languages with the same placeholders, every Chinese character of the
catalog and the playbook in the font, no pandas truncation."""

import string
import warnings

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from powerlens.config_base import ConfigError  # noqa: E402
from powerlens.report import figures, i18n, tables  # noqa: E402
from support import ROOT  # noqa: E402


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _chinese_texts() -> list[str]:
    """Every Chinese text the report can show: the catalog, the words, the playbook's zh fields."""
    book = yaml.safe_load((ROOT / "playbook.yaml").read_text(encoding="utf-8"))
    cells = [c for tier in book["tiers"].values() for c in tier.values()]
    return ([zh for _, zh in i18n.TEXT.values()] + [zh for _, zh in i18n.WORDS.values()]
            + [zh for _, zh in i18n.SHAPE_WORDS.values()]
            + [c[k] for c in cells for k in ("strategy_zh", "why_zh")]
            + [a["description_zh"] for a in book["actions"]])


def test_every_entry_has_both_languages_with_the_same_placeholders():
    for key, texts in i18n.TEXT.items():
        assert len(texts) == len(i18n.LANGUAGES) and all(t.strip() for t in texts), key
        en, zh = texts
        assert _placeholders(en) == _placeholders(zh), key
    # Chinese in Chinese, but for punctuation and units between values
    untranslated = {k for k, (_, zh) in i18n.TEXT.items() if not i18n.has_cjk(zh)}
    assert untranslated == {"sum_join", "sum_end", "sum_arrears_change", "sum_shifted_item", "card_at_kv",
                            "outlook_join"}
    for key, (en, zh) in {**i18n.WORDS, **i18n.SHAPE_WORDS}.items():
        assert en.strip() and zh.strip(), key
        assert i18n.has_cjk(zh) or zh in ("ROC-AUC", "PR-AUC", "LightGBM"), key  # names read as they are
    # every heading is Chinese in Chinese
    assert all(i18n.has_cjk(zh) for key, (_, zh) in i18n.TEXT.items() if key.startswith("sec-"))


def test_every_playbook_text_has_its_chinese():
    book = yaml.safe_load((ROOT / "playbook.yaml").read_text(encoding="utf-8"))
    for tier, cells in book["tiers"].items():
        for grade, cell in cells.items():
            assert i18n.has_cjk(cell["strategy_zh"]) and i18n.has_cjk(cell["why_zh"]), (tier, grade)
    for action in book["actions"]:
        assert i18n.has_cjk(action["description_zh"]), action["name"]
        assert i18n.word(action["name"], "zh") != action["name"], action["name"]  # its name in Chinese too


def test_lookups_format_and_refuse_an_unknown_language():
    assert i18n.t("pareto_top20", "zh", share="80.0%", n="1,234") == "前 20% 的客户贡献了 80.0% 的电费收入（计费客户 1,234 户）。"
    assert i18n.word("energy 12 months (MWh)", "zh") == "近 12 个月电量（MWh）"
    assert i18n.word("energy 12 months (MWh)", "en") == "energy 12 months (MWh)"
    assert i18n.word("accounts in theft top 20", "zh") == "窃电名单前列户数 20"
    assert i18n.word("winter_peaking_weekday_heavy", "zh") == "冬季高峰，工作日偏重"
    assert i18n.word("lift_at_10pct", "en") == "lift at 10%" and i18n.word("some_column", "en") == "some column"
    assert i18n.value_word("north_east", "en") == "north_east"  # data is shown as it is
    assert i18n.heading("sec-kpis", "zh") == '<h2 id="sec-kpis">1. 关键指标</h2>'
    assert i18n.paragraph("<b>x</b>") == '<p class="pl-text">&lt;b&gt;x&lt;/b&gt;</p>'
    with pytest.raises(ConfigError, match="en, zh"):
        i18n.t("sec-kpis", "fr")


def test_the_config_takes_en_or_zh_and_a_currency():
    from powerlens.config import load_config

    cfg = load_config(ROOT / "params.yaml")
    assert cfg.report.language in ("en", "zh") and cfg.report.currency
    assert cfg.replace("report", language="zh", currency="元").report.language == "zh"
    with pytest.raises(ConfigError, match="'report.language' must be 'en' or 'zh'"):
        cfg.replace("report", language="fr")
    with pytest.raises(ConfigError, match="report.currency"):
        cfg.replace("report", currency=" ")


def test_the_font_has_every_chinese_character_the_report_can_show():
    from fontTools.ttLib import TTFont

    path = figures.cjk_font_path()
    cmap = TTFont(path, lazy=True).getBestCmap()
    missing = {ch for text in _chinese_texts() for ch in text if ord(ch) > 0x2000 and ord(ch) not in cmap}
    assert not missing, sorted(missing)


def test_a_chart_in_chinese_draws_every_glyph_with_the_bundled_font():
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    figures.use_language("zh")
    try:
        plan = pd.DataFrame({"action": ["inspection"] * 5 + ["retention_contact"] * 3,
                             "holdout": [False] * 5 + [False, False, True]})
        actions = pd.DataFrame({"action": ["inspection", "retention_contact"], "capacity": [5, 2]})
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
            fig = figures.plan_capacity_figure(plan, actions, language="zh")
            fig.canvas.draw()
        title = fig.axes[0].get_title()
        assert title == "行动计划与各团队处理能力对比"
        assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["用电检查", "客户挽留"]
        used = font_manager.fontManager._find_fonts_by_props(fig.axes[0].title.get_fontproperties())
        assert any(str(figures.cjk_font_path()) == str(p) for p in used)
        plt.close(fig)
    finally:
        figures.use_language("en")


def test_tables_are_curated_in_words_and_never_truncated():
    wide = pd.DataFrame({f"metric_{i}": range(100) for i in range(30)}, index=pd.Index(range(100), name="customer_id"))
    html = tables.html_table(wide, "en", max_rows=12)
    assert "..." not in html and "rows ×" not in html and "columns" not in html.split("</table>")[1]
    assert html.count("<tr>") == 13 and "metric 29" in html and "The first 12 of 100 rows are shown." in html
    assert "<th>customer</th>" in html or ">customer</th>" in html
    zh = tables.html_table(pd.DataFrame({"customer_class": ["residential", "<i>x</i>"], "holdout": [True, False]}),
                           "zh", index=False)
    assert "用户类别" in zh and "居民生活" in zh and "&lt;i&gt;x&lt;/i&gt;" in zh and ">是<" in zh and ">否<" in zh


def test_kpis_with_units_and_a_region_against_the_company():
    kpis = pd.DataFrame({"period": ["2025-10", "2026-09", "2026-10"] * 2, "region": ["north"] * 3 + ["__all__"] * 3,
                         "customers": [40, 41, 42, 100, 100, 105], "kwh": [2.0e6, 2.1e6, 2.5e6, 5e6, 5e6, 1.0e7],
                         "revenue": [1e6, 1.1e6, 1.2e6, 3e6, 3e6, 4.8e6], "on_time_rate": [0.8, 0.81, 0.9, 0.8, 0.8, 0.85]})
    north = kpis[kpis["region"] == "north"]
    table = tables.kpi_table(north, "2026-10", ["customers", "kwh", "revenue", "on_time_rate"], "en", "CNY",
                             company=kpis)
    assert list(table.columns) == ["2026-10", "2026-09", "2025-10", "company", "share of the company"]
    assert table.loc["kwh", "2026-10"] == "2.5 GWh" and table.loc["revenue", "2026-10"] == "1,200,000 CNY"
    assert table.loc["on_time_rate", "2026-10"] == "90.0%" and table.loc["active accounts", "2026-10"] == "42"
    assert table.loc["kwh", "share of the company"] == "25.0%" and table.loc["on_time_rate", "share of the company"] == "–"
    zh = tables.html_table(table, "zh")
    assert "售电量" in zh and "全公司" in zh and "本地区占比" in zh
    fig = figures.region_share_figure(kpis, "north", "2026-10", ["customers", "kwh", "revenue", "on_time_rate"])
    assert [round(b.get_width(), 1) for b in fig.axes[0].patches] == [40.0, 25.0, 25.0]


def test_the_tier_matrix_shows_the_playbooks_chinese():
    segments = pd.DataFrame({"value_tier": ["high"] * 12, "credit_grade": ["A"] * 12, "revenue_12m": 1.0})
    strategies = pd.DataFrame({"value_tier": ["high", "low"], "credit_grade": ["A", "C"],
                               "strategy": ["VIP account manager", "Prepaid"], "why": ["One-to-one.", "Low."],
                               "strategy_zh": ["大客户经理专属服务", None], "why_zh": ["一对一服务。", None]})
    zh = tables.tier_matrix(segments, strategies, 10, "zh")
    assert list(zh["strategy"]) == ["大客户经理专属服务", "Prepaid"]  # the English where no Chinese is given
    assert tables.tier_grid(zh, "zh").loc["high", "A"] == "12 户，收入占比 100.0% — 大客户经理专属服务"
    assert list(tables.tier_matrix(segments, strategies, 10, "en")["strategy"]) == ["VIP account manager", "Prepaid"]
