"""`attune batch --report`: one self-contained HTML page over all recordings of a batch.

Distributions across recordings (talk balance, median reply gaps against the everyday norm of about
200 ms, interruptions per minute, eye contact while listening) as inline SVG, the outliers (outside
Tukey's fences, 1.5 interquartile ranges beyond the quartiles) and the recordings that could not be
reviewed. Nothing is fetched: the page's Content-Security-Policy is `default-src 'none'`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ...config import Config  # noqa: E402
from ...summary.json_out import write_private  # noqa: E402
from ...summary.report_page import INK, OKABE_ITO, html_page, inline_svg  # noqa: E402

#: The overview's own rules on top of the shared page (summary/report_page.py): a compact outlier table.
OVERVIEW_CSS = """#outliers th, #outliers td { text-align: left; font-size: 0.85rem; }
#outliers td:first-child { overflow-wrap: anywhere; }
"""


def recording_measures(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per reviewed recording (file -> measures): `balance` (largest talk share, 0.5 = even for two),
    `median_gap_s` (middle of the speakers' median reply gaps), `interruptions_per_min`,
    `eye_contact_listening` (the on-camera person's, None without video)."""
    by_file: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if not r.get("error") and r.get("speaker") is not None:
            by_file.setdefault(r["file"], []).append(r)
    out = {}
    for file, rs in by_file.items():
        shares = [r["talk_share"] for r in rs if r["talk_share"] is not None]
        gaps = [r["median_gap_s"] for r in rs if r["median_gap_s"] is not None]
        minutes = (rs[0]["duration_s"] or 0) / 60
        made = sum(r["interruptions_made"] or 0 for r in rs)
        contact = [r["eye_contact_listening"] for r in rs if r.get("eye_contact_listening") is not None]
        out[file] = {"balance": max(shares) if len(shares) >= 2 else None,
                     "median_gap_s": float(np.median(gaps)) if gaps else None,
                     "interruptions_per_min": made / minutes if minutes > 0 else None,
                     "eye_contact_listening": contact[0] if contact else None}
    return out


def outliers(measures: dict[str, dict[str, float | None]]) -> list[tuple[str, str, float, str]]:
    """(file, measure, value, 'high'/'low') for values outside Tukey's fences (at least 4 recordings)."""
    found = []
    for name in ("balance", "median_gap_s", "interruptions_per_min", "eye_contact_listening"):
        values = {f: m[name] for f, m in measures.items() if m[name] is not None}
        if len(values) < 4:
            continue
        q1, q3 = np.percentile(list(values.values()), [25, 75])
        lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        found += [(f, name, v, "high" if v > hi else "low") for f, v in values.items() if v > hi or v < lo]
    return sorted(found, key=lambda x: (x[1], -abs(x[2])))


def write_overview(path: str | Path, rows: Sequence[dict[str, Any]], *, config: Config, title: str) -> None:
    """Write the overview page of a batch's table rows to `path` (0600)."""
    write_private(path, render_overview(rows, config=config, title=title))


def render_overview(rows: Sequence[dict[str, Any]], *, config: Config, title: str) -> str:
    measures = recording_measures(rows)
    failed = sorted({(r["file"], r["error"]) for r in rows if r.get("error")})
    norm = config.summary.norm_gap_s
    parts = [
        _hist("balance", "Talk balance", [m["balance"] for m in measures.values()], (0.5, 1.0), 0.5,
              "largest talk share in the recording (0.5: two people talked equally)", "even",
              "How evenly the talk was shared: each recording counts once, by the share of its most talkative "
              "speaker."),
        _hist("gaps", "Gaps before replies", [m["median_gap_s"] for m in measures.values()], (-1.0, 2.0), norm,
              "median gap before a reply in the recording, s (below 0: overlap)", "typical",
              f"In everyday talk a reply usually follows after about {norm * 1000:.0f} ms (green line)."),
        _hist("interruptions", "Interruptions", [m["interruptions_per_min"] for m in measures.values()],
              (0.0, 3.0), None, "interruptions per minute in the recording", "",
              "How often someone took the floor while another was still talking."),
        _hist("contact", "Eye contact while listening",
              [m["eye_contact_listening"] for m in measures.values()], (0.0, 1.0), None,
              "share of listening time with eye contact (person on camera)", "",
              "Only recordings with video and a known person on camera."),
    ]
    odd = outliers(measures)
    rows_html = "".join(f"<tr><td>{html.escape(f)}</td><td>{html.escape(name)}</td><td>{v:.3g}</td>"
                        f"<td>{side}</td></tr>" for f, name, v, side in odd)
    parts.append('<section id="outliers"><h2>Outliers</h2>' + (
        f"<table><tr><th>recording</th><th>measure</th><th>value</th><th></th></tr>{rows_html}</table>"
        if odd else "<p>No recording lies outside 1.5 interquartile ranges of the others.</p>") + "</section>")
    if failed:
        items = "".join(f"<li><b>{html.escape(f)}</b>: {html.escape(e)}</li>" for f, e in failed)
        parts.append(f'<section id="errors"><h2>Could not be reviewed</h2><ul>{items}</ul></section>')
    meta = f"{len(measures)} recordings reviewed · {len(failed)} could not be"
    return html_page(title=title, meta=meta, body="\n".join(parts), css=OVERVIEW_CSS)


def _hist(ident: str, heading: str, values: list, span: tuple[float, float], mark: float | None,
          xlabel: str, mark_label: str, caption: str) -> str:
    x = np.asarray([v for v in values if v is not None], float)
    if x.size == 0:
        return f'<section id="{ident}"><h2>{heading}</h2><p>No recording had this to measure.</p></section>'
    lo, hi = min(span[0], float(x.min())), max(span[1], float(x.max()))
    fig, ax = plt.subplots(figsize=(4.6, 1.9))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=INK, labelsize=8)
    ax.hist(x, bins=np.linspace(lo, hi, 25), color=OKABE_ITO["blue"], edgecolor="white")
    if mark is not None:
        ax.axvline(mark, color=OKABE_ITO["green"], linewidth=1.5)
        ax.text(mark, ax.get_ylim()[1], f" {mark_label}", color=INK, fontsize=8, va="top")
    ax.set_xlabel(xlabel, fontsize=8, color=INK)
    ax.set_ylabel("recordings", fontsize=8, color=INK)
    fig.tight_layout()
    alt = (f"Histogram over {x.size} recordings of the {xlabel}: middle {np.median(x):.2f}, "
           f"from {x.min():.2f} to {x.max():.2f}.")
    return (f'<section id="{ident}"><h2>{heading}</h2><figure>{inline_svg(fig, alt)}'
            f"<figcaption>{html.escape(caption)} {html.escape(alt)}</figcaption></figure></section>")
