"""The page every HTML report of attunement is made in (the review report, the batch overview): one
self-contained file with inline CSS and SVG, a Content-Security-Policy that lets it fetch nothing, the
same look, and matplotlib figures turned into accessible inline SVG.
"""

from __future__ import annotations

import html
import io
import re

#: What a report may load: nothing but its own inline styles (and data: images).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
#: Okabe & Ito (2008) colour-blind-safe palette, without vermillion (no red in the reports).
OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "purple": "#CC79A7",
             "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000"}
INK = "#333333"

BASE_CSS = """:root { color-scheme: light; }
body { margin: 0; background: #f7f5f0; color: #333; font: 16px/1.55 system-ui, -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 46rem; margin: 0 auto; padding: 1.2rem 1rem 3rem; }
h1 { font-size: 1.35rem; font-weight: 600; margin: 0.4rem 0 0.2rem; overflow-wrap: anywhere; }
.meta { color: #666; margin: 0 0 1.2rem; }
h2 { font-size: 1.05rem; font-weight: 600; margin: 0 0 0.5rem; }
section { background: #fff; border-radius: 12px; padding: 1rem 1.1rem; margin: 0 0 1rem;
  box-shadow: 0 1px 2px rgba(0,0,0,0.06); }
details summary { cursor: pointer; font-weight: 600; }
table { border-collapse: collapse; margin: 0.8rem 0; width: 100%; font-size: 0.95rem; }
caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
th, td { padding: 0.25rem 0.5rem; border-bottom: 1px solid #eee; text-align: right; }
th[scope=row] { text-align: left; font-weight: normal; }
ul { margin: 0; padding-left: 1.2rem; }
li { margin: 0.3rem 0; }
figure { margin: 0; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #666; font-size: 0.88rem; margin-top: 0.4rem; }
footer { color: #888; font-size: 0.8rem; text-align: center; }
"""


def html_page(*, title: str, meta: str, body: str, css: str = "") -> str:
    """A whole HTML page: `title` as its title and heading, `meta` the line under it (both plain text,
    escaped here), `body` HTML (sections), `css` rules added after BASE_CSS."""
    t = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{t}</title>
<style>
{BASE_CSS}{css}</style>
</head>
<body>
<main>
<h1>{t}</h1>
<p class="meta">{html.escape(meta)}</p>
{body}
<footer>Made on this computer by attunement; nothing was uploaded.</footer>
</main>
</body>
</html>
"""


def inline_svg(fig, alt: str) -> str:
    """A matplotlib figure as inline SVG (closed afterwards): no metadata, no fixed size (it scales to
    the page), role="img" with `alt` as its aria-label and <title>."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s(width|height)="[^"]*pt"', "", svg, count=2)
    alt_e = html.escape(alt, quote=True)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{alt_e}" ', 1)
    return re.sub(r"(<svg[^>]*>)", lambda m: f"{m.group(1)}<title>{alt_e}</title>", svg, count=1)
