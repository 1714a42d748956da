"""The report a person wants to look at: one self-contained HTML page (inline SVG, no network).

Timeline of turns with interruptions and "mm-hm"s, camera ribbons under it (eye contact,
posture, lean, nods), talk balance, response gaps against the norms of everyday talk,
listening behaviour, and the gentle summary, strengths first. No scores, no red: the
Okabe-Ito colour-blind-safe palette. Times are seconds on the session clock.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from ..config import Config  # noqa: E402
from ..records import Review  # noqa: E402
from .cues_json import review_cues
from .exports import runs  # noqa: E402
from .json_out import review_to_json, write_private  # noqa: E402
from .report_page import INK, OKABE_ITO, html_page, inline_svg  # noqa: E402
from .text import clock, how_often, person, summarize  # noqa: E402

log = logging.getLogger(__name__)

SPEAKER_COLOURS = ("blue", "orange", "green", "purple", "sky", "yellow")  # of OKABE_ITO (report_page.py)
UNSEEN = "#e4e4e4"
#: The report's own rules on top of the shared page (report_page.BASE_CSS): the summary's blocks.
REPORT_CSS = """section.strengths { border-left: 5px solid #7fcdb6; }
section.suggestions { border-left: 5px solid #a6d6f2; }
section.notes { border-left: 5px solid #cfcfcf; color: #555; font-size: 0.95rem; }
"""


def write_report(path: str | Path, review: Review, *, config: Config, trend: str | None = None) -> None:
    """Write the report of `review` to `path` as one HTML file, mode 0600 (it is the user's alone);
    `trend`: a sentence on what went better than in the person's own last session (summary/trend.py)."""
    write_private(path, render_report(review, config=config, trend=trend))
    log.info("report written to %s", path)


def render_report(review: Review, *, config: Config, trend: str | None = None) -> str:
    """The report as one HTML string: inline CSS and SVG, nothing fetched from anywhere."""
    summary = summarize(review, config=config.summary)
    cues = review_cues(review)
    title = f"Your practice conversation: {Path(review.input).name}"
    parts = [_summary_html(summary, trend), _figure("timeline", "Who spoke when", *_timeline(review, cues))]
    if len(review.speakers) >= 2:
        parts.append(_figure("balance", "Talk balance", *_balance(review)))
    parts.append(_figure("gaps", "Gaps before replies", *_gaps(review, config)))
    parts.append(_listening_html(review, cues))
    parts.append(_numbers_html(review, cues))
    body = "\n".join(p for p in parts if p)
    meta = (f"{clock(review.duration_s)} long · {len(review.speakers)} speaker{'s' if len(review.speakers) != 1 else ''}"
            f"{' · with camera' if cues else ''}")
    return html_page(title=title, meta=meta, body=body, css=REPORT_CSS)


def _summary_html(summary, trend: str | None = None) -> str:
    def block(heading, items, cls):
        if not items:
            return ""
        li = "".join(f"<li>{html.escape(s)}</li>" for s in items)
        return f'<section class="{cls}"><h2>{heading}</h2><ul>{li}</ul></section>'
    return (block("What went well", summary.strengths, "strengths")
            + block("Since last time", [trend] if trend else [], "strengths trend")
            + block("Something to try next time", summary.suggestions, "suggestions")
            + block("What I couldn't see or hear well", summary.notes, "notes"))


def _figure(ident: str, heading: str, fig, alt: str, caption: str) -> str:
    """A matplotlib figure as inline SVG inside a <figure>, with a <title>, aria-label and caption."""
    if fig is None:
        return f'<section id="{ident}"><h2>{heading}</h2><p>{html.escape(caption)}</p></section>'
    svg = inline_svg(fig, alt)
    return (f'<section id="{ident}"><h2>{heading}</h2><figure>{svg}'
            f"<figcaption>{html.escape(caption)}</figcaption></figure></section>")


#: Figure width in inches: narrow enough that its text stays readable when scaled to a phone's width.
FIG_WIDTH_IN = 4.6


def _axes(rows: int, height_per_row: float = 0.3, extra: float = 0.55):
    fig, ax = plt.subplots(figsize=(FIG_WIDTH_IN, extra + height_per_row * max(rows, 1)))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#999999")
    ax.tick_params(colors=INK, labelsize=8, left=False, length=3)
    return fig, ax


def _timeline(review: Review, cues: dict | None):
    """Turns per speaker with interruptions (▼) and backchannels (●); camera ribbons under them."""
    tt, end = review.turn_taking, max(review.duration_s, 1.0)
    rows = list(review.speakers)
    ribbons = []
    if cues:
        s = cues["series"]
        t = np.asarray([np.nan if v is None else v for v in s["t"]], float)
        face = np.asarray(s["face"], bool)
        contact = np.asarray(s["eye_contact"], bool) & face
        open_ = np.asarray([np.nan if v is None else v for v in s["open_posture"]], float)
        ribbons = [("eye contact", [(runs(t, contact, end), OKABE_ITO["sky"]), (runs(t, ~face, end), UNSEEN)]),
                   ("open posture", [(runs(t, open_ == 1, end), OKABE_ITO["green"]),
                                     (runs(t, open_ == 0, end), OKABE_ITO["orange"]),
                                     (runs(t, ~np.isfinite(open_), end), UNSEEN)]),
                   ("leaning", [([(e["start"], e["end"] - e["start"]) for e in cues["events"] if e["kind"] == k],
                                 OKABE_ITO[c]) for k, c in (("lean_in", "blue"), ("lean_back", "yellow"))]),
                   ("nods", [([(e["start"], e["end"] - e["start"]) for e in cues["events"] if e["kind"] in ("nod", "shake")],
                              OKABE_ITO["purple"])])]
    labels = [person(r) for r in rows] + [name for name, _ in ribbons]
    fig, ax = _axes(len(labels))
    y = {sp: len(labels) - 1 - i for i, sp in enumerate(rows)}
    for i, sp in enumerate(rows):
        segs = [(s.start, s.end - s.start) for s in review.segments if s.speaker == sp]
        ax.broken_barh(segs, (y[sp] - 0.35, 0.7), color=OKABE_ITO[SPEAKER_COLOURS[i % len(SPEAKER_COLOURS)]])
    for k, (_, layers) in enumerate(ribbons):
        yk = len(ribbons) - 1 - k
        for spans, colour in layers:
            ax.broken_barh(spans, (yk - 0.25, 0.5), color=colour)
    for e in tt.interruptions + tt.attempted_interruptions:
        ax.plot([e.t], [y[e.by] + 0.5], marker="v", color=INK, markersize=7, linestyle="none")
    for b in tt.backchannels:
        ax.plot([b.t], [y[b.by] + 0.5], marker="o", color=INK, markersize=4, linestyle="none")
    ax.set_yticks(range(len(labels)), labels[::-1])
    ax.set_ylim(-0.6, len(labels) - 0.2)
    ax.set_xlim(0, end)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: clock(v)))
    fig.tight_layout()
    n_int = len(tt.interruptions) + len(tt.attempted_interruptions)
    alt = (f"Timeline of {clock(end)}: speech of {', '.join(person(r) for r in rows)} as bars; "
           f"{n_int} moment(s) of speaking at once marked with a downward triangle, "
           f"{len(tt.backchannels)} short listening response(s) marked with a dot"
           + ("; under it, ribbons for eye contact, open posture, leaning and nods (grey: not seen)." if cues else "."))
    caption = ("▼ two people spoke at once and one stopped · ● a short \"mm-hm\" while the other spoke"
               + (" · ribbons: blue = eye contact, green = open posture, orange = arms crossed, dark blue = leaning in,"
                  " yellow = leaning back, purple = nod; grey = couldn't see" if cues else ""))
    return fig, alt, caption


def _balance(review: Review):
    """One bar split by each speaker's talk time."""
    per = review.turn_taking.per_speaker
    total = sum(per[s].talk_time_s for s in review.speakers)
    if total <= 0:
        return None, "", "No speech was heard, so there is no balance to show."
    fig, ax = _axes(1, extra=0.45)
    left = 0.0
    for i, sp in enumerate(review.speakers):
        share = per[sp].talk_time_s / total
        ax.barh([0], [share], left=left, height=0.6, color=OKABE_ITO[SPEAKER_COLOURS[i % len(SPEAKER_COLOURS)]])
        if share > 0.08:
            colour = SPEAKER_COLOURS[i % len(SPEAKER_COLOURS)]
            ax.text(left + share / 2, 0, person(sp), ha="center", va="center", fontsize=9,
                    color="white" if colour in ("blue", "green", "black") else "#222222")
        left += share
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.set_xticks([0, 0.5, 1], ["", "half", ""])
    ax.axvline(0.5, color="#ffffff", linewidth=1, linestyle=":")
    fig.tight_layout()
    words = "; ".join(f"{person(s)} talked for about {round(per[s].talk_time_s)} s" for s in review.speakers)
    return fig, f"Talk balance: {words}.", (words[:1].upper() + words[1:] if words.startswith("you") else words) + "."


def _gaps(review: Review, config: Config):
    """Histogram of floor-transfer offsets against the typical gap and the hesitation bound."""
    fto = np.asarray(review.turn_taking.floor_transfer_offsets_s, float)
    norm, hes = config.summary.norm_gap_s, config.summary.hesitation_gap_s
    if fto.size == 0:
        return None, "", "There were no changes of speaker to measure gaps on."
    fig, ax = _axes(4, extra=0.7)
    lo, hi = min(-1.0, float(fto.min()) - 0.2), max(2.0, float(fto.max()) + 0.2)
    ax.axvspan(0, 2 * norm, color=OKABE_ITO["green"], alpha=0.15, linewidth=0)
    ax.axvline(norm, color=OKABE_ITO["green"], linewidth=1.5)
    ax.axvline(hes, color=OKABE_ITO["orange"], linewidth=1.5, linestyle="--")
    ax.hist(fto, bins=np.arange(lo, hi + 0.2, 0.2), color=OKABE_ITO["blue"], edgecolor="white")
    top = ax.get_ylim()[1] * 1.25
    ax.set_ylim(0, top)
    ax.text(norm, top, "typical ", color=INK, fontsize=8, va="top", ha="right")
    ax.text(hes, top, " may read as hesitation", color=INK, fontsize=8, va="top")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("seconds between one person stopping and the other starting (below 0: overlap)", fontsize=8,
                  color=INK)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.tight_layout()
    long = int(np.sum(fto > hes))
    alt = (f"Histogram of {fto.size} gaps before replies, middle value {np.median(fto):.2f} s; "
           f"a typical gap in everyday talk is about {norm:.1f} s, and {long} gap(s) were longer than {hes:.1f} s.")
    middle = float(np.median(fto))
    here = (f"Here the middle gap was {middle * 1000:.0f} ms." if middle >= 0 else
            f"Here replies mostly overlapped the end of the other's turn, by {-middle * 1000:.0f} ms in the middle.")
    caption = (f"In everyday talk a reply usually follows after about {norm * 1000:.0f} ms (green line); silences "
               f"longer than about {hes * 1000:.0f} ms (dashed line) start to be heard as hesitation. {here}")
    return fig, alt, caption


def _listening_html(review: Review, cues: dict | None) -> str:
    """Listening behaviour while the other spoke: "mm-hm"s, and eye contact and nods when on camera."""
    me = review.on_camera
    if me is None or len(review.speakers) < 2:
        return ""
    who = person(me)
    bcs = [b for b in review.turn_taking.backchannels if b.by == me]
    items = [f"{who} said a short \"mm-hm\" {len(bcs)} time{'s' if len(bcs) != 1 else ''} while the other spoke "
             f"(first around {clock(bcs[0].t)})." if bcs
             else f"I didn't hear a short \"mm-hm\" from {who} while the other spoke; a nod or a glance can do the same."]
    if cues and cues["eye_contact_share_listening"] is not None:
        items.append(f"{who} kept eye contact {how_often(cues['eye_contact_share_listening'])} while listening"
                     + (f", and {how_often(cues['eye_contact_share_speaking'])} while speaking"
                        if cues["eye_contact_share_speaking"] is not None else "") + ".")
    if cues and cues["nods_while_listening"] is not None:
        n = cues["nods_while_listening"]
        items.append(f"{who} nodded {n} time{'s' if n != 1 else ''} while listening.")
    li = "".join(f"<li>{html.escape(s[:1].upper() + s[1:])}</li>" for s in items)
    return f'<section id="listening"><h2>While the other was speaking</h2><ul>{li}</ul></section>'


#: The numbers section: (label, per-speaker key in the JSON's turn_taking.per_speaker, format).
TURN_ROWS = (("Talk time", "talk_time_s", "{:.1f} s"), ("Share of the talk", "talk_share", "{:.0%}"),
             ("Turns", "turns", "{}"), ("Longest turn", "longest_turn_s", "{:.1f} s"),
             ("Middle gap before replying", "median_response_gap_s", "{:.2f} s"),
             ("Spoke over the other (interruptions)", "interruptions_made", "{}"),
             ("Started over the other, then stopped", "attempted_interruptions_made", "{}"),
             ("Short \"mm-hm\"s while the other spoke", "backchannels_made", "{}"))
#: (label, key in the JSON's cues, format) for the person on camera.
CUE_ROWS = (("Face in view", "face_visible_share", "{:.0%}"), ("Eye contact", "eye_contact_share", "{:.0%}"),
            ("Eye contact while speaking", "eye_contact_share_speaking", "{:.0%}"),
            ("Eye contact while listening", "eye_contact_share_listening", "{:.0%}"),
            ("Open posture", "open_posture_share", "{:.0%}"), ("Arms crossed", "arms_crossed_share", "{:.0%}"),
            ("Leaning in", "lean_in_share", "{:.0%}"), ("Nods", "nods", "{}"),
            ("Nods while listening", "nods_while_listening", "{}"))


def _numbers_html(review: Review, cues: dict | None) -> str:
    """The numbers behind the summary's plain words, folded away (one click): turn-taking per
    speaker and, with a camera, the on-camera person's cue shares; "-" where not measured."""
    def cell(fmt, value):
        return "-" if value is None else html.escape(fmt.format(value))

    per = review_to_json(review)["turn_taking"]["per_speaker"]
    talkers = [sp for sp in review.speakers if sp in per]
    parts = []
    if talkers:
        head = "".join(f'<th scope="col">{html.escape(_cap(person(sp)))}</th>' for sp in talkers)
        rows = "".join(f'<tr><th scope="row">{label}</th>'
                       + "".join(f"<td>{cell(fmt, per[sp].get(key))}</td>" for sp in talkers) + "</tr>"
                       for label, key, fmt in TURN_ROWS)
        parts.append(f'<table><caption>Turn-taking</caption><tr><td></td>{head}</tr>{rows}</table>')
    if cues:
        who = _cap(person(review.on_camera)) if review.on_camera else "The person on camera"
        rows = "".join(f'<tr><th scope="row">{label}</th><td>{cell(fmt, cues.get(key))}</td></tr>'
                       for label, key, fmt in CUE_ROWS)
        parts.append(f'<table><caption>On camera: {html.escape(who)}</caption>{rows}</table>')
    if not parts:
        return ""
    return ('<section id="numbers"><details><summary>The numbers behind these words</summary>'
            + "".join(parts) + "<p>Shares count only the moments that could be measured.</p></details></section>")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
