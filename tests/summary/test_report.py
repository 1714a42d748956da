"""The HTML report, opened in real headless Chromium: it renders, shows the timeline, and fetches nothing."""

from __future__ import annotations

import html
import json
import re
import shutil
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from attunement.summary.cues_json import review_cues
from attunement.config import default_config
from attunement.records import Segment
from attunement.session.runners.offline import review_annotation, review_file
from attunement.summary.json_out import review_to_json
from attunement.summary.report import OKABE_ITO, write_report
from attunement.summary.text import summarize

pytestmark = pytest.mark.slow  # a 20 s demo video reviewed, reports rendered in Chromium

CONFIG = default_config()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="Debian package `chromium` is not installed (/usr/bin/chromium)")
GRADE_WORDS = re.compile(r"\b(score|grade|poor|bad|fail\w*|wrong|rating|points?)\b|%|/10", re.I)
URL_IN_ATTRIBUTE = re.compile(r"""(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.I)


@pytest.fixture(scope="module")
def reports(tmp_path_factory, demo_clips):
    """Reports of three kinds of session: audio and video, audio only, video with no speech."""
    d = tmp_path_factory.mktemp("report")
    both = demo_clips.review(20.0)  # 20 s: two nods, speaking at once
    audio = review_annotation([Segment(0, 4, "me"), Segment(1, 1.4, "partner"), Segment(3.6, 8, "partner"),
                               Segment(9.2, 12, "me"), Segment(12.3, 15, "partner")], config=CONFIG, source="talk.rttm")
    video = review_file(demo_clips.clip(6.0, silent=True), config=CONFIG)
    out = {}
    for name, review in (("both", both), ("audio", audio), ("video", video)):
        write_report(d / f"{name}.html", review, config=CONFIG)
        out[name] = (d / f"{name}.html", review)
    return out


def chromium(page: Path, tmp: Path, *action: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on a file with the brief's flags plus `action`."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp / 'profile'}", "--window-size=420,2400", *action, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


LOCAL = ("file:", "data:", "about:", "chrome:", "blob:")


def page_requests(netlog: Path) -> list[str]:
    """URLs the page asked for (Chromium's own update/account pings have no page origin and are left out)."""
    log = json.loads(netlog.read_text())
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for e in log["events"]:
        p = e.get("params", {})
        if types.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in p and not p["url"].startswith(LOCAL) and (
                p.get("initiator") != "not an origin" or "file://" in p.get("network_isolation_key", "")):
            urls.append(p["url"])
    return urls


def visible_text(page: str, *, numbers: bool = False) -> str:
    """The page's words (no CSS, no plots); without the folded numbers section unless `numbers`."""
    body = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)
    if not numbers:
        body = re.sub(r'<section id="numbers">.*?</section>', " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_written_private_and_self_contained(reports):
    for path, _ in reports.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        page = path.read_text()
        assert '<meta name="viewport"' in page and "default-src 'none'" in page
        assert not URL_IN_ATTRIBUTE.search(page), URL_IN_ATTRIBUTE.search(page)
        assert not GRADE_WORDS.search(visible_text(page)), GRADE_WORDS.search(visible_text(page))


def test_every_figure_has_alt_text(reports):
    page = reports["both"][0].read_text()
    svgs = re.findall(r"<svg\b[^>]*>\s*<title>[^<]{20,}</title>", page)
    assert len(svgs) == page.count("<svg ") == 3  # timeline, talk balance, gaps
    assert all('role="img"' in s and "aria-label=" in s for s in svgs)
    assert page.count("<figcaption>") == 3


def test_contents_follow_the_session(reports):
    both, audio, video = (reports[k][0].read_text() for k in ("both", "audio", "video"))
    summary = summarize(reports["both"][1], config=CONFIG.summary)
    text = visible_text(both)
    assert text.index("What went well") < text.index("Something to try next time")
    for sentence in summary.strengths + summary.suggestions:
        assert sentence in text
    assert "ribbons for eye contact" in both and "You nodded 2 times while listening" in text
    assert "ribbons for eye contact" not in audio and "While the other was speaking" in audio
    assert "I didn't hear a short" in visible_text(audio)  # the user made no "mm-hm" in that talk
    assert "ribbons for eye contact" in video and "No speech was heard" in visible_text(video)
    assert 'id="balance"' not in video and "no changes of speaker" in visible_text(video)


def test_the_numbers_are_one_click_away(reports):
    """The plain words' numbers, folded in a <details>: per-speaker turn-taking as in the JSON, and
    the on-camera cue shares; an audio-only report has no camera table."""
    both_page, both = reports["both"]
    page = both_page.read_text()
    section = re.search(r'<section id="numbers"><details><summary>[^<]+</summary>(.*?)</details></section>',
                        page, re.S)
    assert section, "numbers section missing"
    per = review_to_json(both)["turn_taking"]["per_speaker"]
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td>[^<]*</td>)+)</tr>', section.group(1)))
    shares = re.findall(r"<td>([^<]*)</td>", rows["Share of the talk"])
    assert shares == [f"{per[sp]['talk_share']:.0%}" for sp in both.speakers]
    assert re.findall(r"<td>([^<]*)</td>", rows["Turns"]) == [str(per[sp]["turns"]) for sp in both.speakers]
    cues = review_cues(both)
    assert rows["Nods while listening"] == f"<td>{cues['nods_while_listening']}</td>"
    assert rows["Eye contact"] == f"<td>{cues['eye_contact_share']:.0%}</td>"
    audio = reports["audio"][0].read_text()
    assert 'id="numbers"' in audio and "On camera" not in audio
    assert "On camera: You" in page


@needs_chromium
@pytest.mark.parametrize("kind", ["both", "audio", "video"])
def test_renders_in_chromium_with_a_timeline_and_no_requests(reports, tmp_path, kind):
    page, _ = reports[kind]
    shot, netlog = tmp_path / "shot.png", tmp_path / "net.json"
    chromium(page, tmp_path, f"--screenshot={shot}", f"--log-net-log={netlog}")
    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert image.shape[:2] == (2400, 420) and image.std() > 20  # not blank
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    assert not np.any((r > 180) & (g < 90) & (b < 90)), "no red in the report"

    def has(colour):
        want = np.array([int(OKABE_ITO[colour][i:i + 2], 16) for i in (1, 3, 5)])
        return np.sum(np.all(np.abs(image - want) <= 6, axis=-1)) > 200
    assert has("blue") == (kind != "video")  # speech bars and talk balance
    assert has("sky") == (kind != "audio")  # eye contact ribbon
    assert page_requests(netlog) == []
    dom = chromium(page, tmp_path, "--dump-dom").stdout
    timeline = re.search(r'<section id="timeline">.*?</section>', dom, flags=re.S)
    assert timeline and "<svg" in timeline.group(0) and timeline.group(0).count("<path") > 20


@needs_chromium
def test_the_request_check_can_fail(tmp_path):
    page = tmp_path / "fetching.html"
    page.write_text('<html><body><img src="http://example.invalid/x.png"></body></html>')
    netlog = tmp_path / "net.json"
    chromium(page, tmp_path, f"--screenshot={tmp_path / 'x.png'}", f"--log-net-log={netlog}")
    assert page_requests(netlog) == ["http://example.invalid/x.png"]
    assert URL_IN_ATTRIBUTE.search(page.read_text())


@pytest.mark.realdata
def test_real_conversation_report(shared_data, tmp_path):
    from attunement.conversation.rttm import read_rttm
    convo = shared_data / "conversations"
    review = review_file(convo / "sample.wav", config=CONFIG, reference=read_rttm(convo / "sample.rttm"))
    write_report(tmp_path / "sample.html", review, config=CONFIG)
    page = (tmp_path / "sample.html").read_text()
    tt = review.turn_taking
    n_int = len(tt.interruptions) + len(tt.attempted_interruptions)
    assert n_int > 0 and f"{n_int} moment(s) of speaking at once" in page
    assert f"Histogram of {len(tt.floor_transfers)} gaps" in page
    assert not URL_IN_ATTRIBUTE.search(page)
