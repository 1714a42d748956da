"""The page shell shared by the review report and the batch overview (summary/report_page.py)."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from attunement.summary.report_page import BASE_CSS, CSP, html_page, inline_svg  # noqa: E402


def test_page_escapes_its_text_and_fetches_nothing():
    page = html_page(title='<b>"a" & b</b>', meta="1 < 2", body="<section>x</section>", css="p { color: #333; }\n")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("&lt;b&gt;&quot;a&quot; &amp; b&lt;/b&gt;") == 2  # title and heading
    assert '<p class="meta">1 &lt; 2</p>' in page and "<section>x</section>" in page
    assert f'content="{CSP}"' in page and "default-src 'none'" in CSP
    assert BASE_CSS + "p { color: #333; }\n</style>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)


def test_figure_becomes_scalable_accessible_svg():
    fig, ax = plt.subplots(figsize=(3, 1))
    ax.plot([0, 1], [0, 1])
    svg = inline_svg(fig, 'a line \\1 from "0" to 1')
    assert svg.startswith('<svg role="img" aria-label="a line \\1 from &quot;0&quot; to 1" ')
    assert re.match(r"<svg[^>]*><title>a line \\1 from &quot;0&quot; to 1</title>", svg)
    assert "<metadata>" not in svg and not re.search(r'<svg[^>]*\swidth="[^"]*pt"', svg)
    assert not plt.get_fignums()  # closed
