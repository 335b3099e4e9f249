"""The report renders in headless Chromium without console errors, and a screenshot shows the funnel plot."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from pipeline.report.figures import FUNNEL_COLOR
from pipeline.report.html import SECTIONS
from tests.report.browser import headless
from tests.report.html_tables import parse_report

WINDOW = (1280, 1400)


def test_report_renders_without_console_errors(built_report, tmp_path):
    page = headless(built_report["html_path"].as_uri(), tmp_path / "profile", "--dump-dom")
    assert page.console == []
    dom = parse_report(page.stdout)
    assert dom.sections == [sid for sid, _ in SECTIONS]
    assert len(dom.tables["table-funnel"]) == len(parse_report(built_report["html"]).tables["table-funnel"])
    # the capture itself works: a page with an error and an exception is caught
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><script>console.error("report-probe"); undefinedFn();</script></body></html>')
    caught = headless(bad.as_uri(), tmp_path / "profile2", "--dump-dom").console
    assert any("report-probe" in line for line in caught) and any("undefinedFn" in line for line in caught)


def _funnel_mask(png_path) -> np.ndarray:
    rgb = np.asarray(Image.open(png_path).convert("RGB")).astype(int)
    target = [int(FUNNEL_COLOR[i:i + 2], 16) for i in (1, 3, 5)]
    return (np.abs(rgb - target).sum(axis=2) <= 6)


def _bands(column: np.ndarray) -> int:
    """Runs of True along one pixel column: one per bar it crosses."""
    return int(np.sum(column[1:] & ~column[:-1]) + column[0])


def test_screenshot_shows_the_funnel_plot_at_the_top(built_report, tmp_path):
    shot = tmp_path / "report.png"
    headless(built_report["html_path"].as_uri(), tmp_path / "profile", f"--window-size={WINDOW[0]},{WINDOW[1]}",
             f"--screenshot={shot}")
    mask = _funnel_mask(shot)
    assert mask.shape == (WINDOW[1], WINDOW[0])
    ys, xs = np.nonzero(mask)
    assert len(ys) > 2000, "the funnel's bars are not on screen"
    img = next(i for i in parse_report(built_report["html"]).images if i["id"] == "fig-funnel")
    # all funnel-coloured pixels lie within one figure-sized box near the top of the page
    assert ys.min() < 400 and ys.max() - ys.min() < int(img["height"]) and xs.max() - xs.min() < int(img["width"])
    # a column just right of the bars' common origin crosses one bar per stage with documents out
    stages_out = [r for r in parse_report(built_report["html"]).tables["table-funnel"] if r["rows out"]]
    assert _bands(mask[:, xs.min() + 2]) == len(stages_out)


def test_a_report_without_a_funnel_has_none_of_its_colour(built_report, tmp_path):
    """The negative control of the screenshot test: the same run with its funnel left out puts the other
    figures (quality, languages, mix) on screen, and none of them has the funnel's colour."""
    html, n = re.subn(r'<img id="fig-funnel"[^>]*>', "", built_report["html"])
    assert n == 1
    page = tmp_path / "no-funnel.html"
    page.write_text(html)
    shot = tmp_path / "no-funnel.png"
    headless(page.as_uri(), tmp_path / "profile", f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}")
    assert _funnel_mask(shot).sum() == 0
    drawn = (np.asarray(Image.open(shot).convert("RGB")) < 250).any(axis=2).sum()
    assert drawn > 100_000  # the other figures are on screen
