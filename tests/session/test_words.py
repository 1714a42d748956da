"""What was said, in a review: the recognizer on real speech, a person's transcript in its place,
and the privacy default (counts and labels kept, the text only with --keep-words)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from attunement.config import default_config
from attunement.demo.conversation import practice_conversation
from attunement.session.runners.offline import review_file
from attunement.sources.wav import write_wav
from attunement.summary.json_out import review_to_json
from attunement.summary.text import summarize

CONFIG = default_config()
ATTUNE = Path(sys.executable).with_name("attune")


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """A generated two-person talk (one channel each) and a WebVTT transcript of it by the truth."""
    d = tmp_path_factory.mktemp("words")
    convo = practice_conversation(seed=0, channels=2)
    wav = d / "talk.wav"
    write_wav(wav, convo.audio, convo.rate)
    lines = {convo.speakers[0]: ["What was the best part of your day?", "That sounds really hard.",
                                 "I feel worried when we rush.", "So you felt left out at work?"],
             convo.speakers[1]: ["Work was long and I felt left out.", "Yes.", "Mm.", "Right."]}
    cues, k = ["WEBVTT", ""], {s: 0 for s in convo.speakers}
    for seg in sorted(convo.segments, key=lambda s: s.start):
        text = lines[seg.speaker][k[seg.speaker] % 4]
        k[seg.speaker] += 1
        cues += [f"{_ts(seg.start)} --> {_ts(seg.end)}", f"<v {seg.speaker}>{text}", ""]
    vtt = d / "talk.vtt"
    vtt.write_text("\n".join(cues))
    return convo, wav, vtt


def _ts(t: float) -> str:
    return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}"


def test_a_transcript_replaces_the_recognizer_and_its_cues_are_counted(talk):
    convo, wav, vtt = talk
    review = review_file(wav, config=CONFIG, channels_are_speakers=True, speaker_names=convo.speakers,
                         words_file=vtt)
    lang = review_to_json(review)["language"]
    me = lang["per_speaker"][convo.speakers[0]]
    assert me["open_question"] >= 1 and me["validation"] >= 1 and me["i_statement"] >= 1
    assert lang["words_kept"] is False
    assert all("text" not in u and "sentence_text" not in u for u in lang["utterances"])  # the privacy default
    said = summarize(review, config=CONFIG.summary).text()
    assert "best part of your day" not in said and "sounds really hard" not in said  # no quotations either


def test_keep_words_keeps_the_text_and_the_summary_quotes_it(talk):
    convo, wav, vtt = talk
    review = review_file(wav, config=CONFIG, channels_are_speakers=True, speaker_names=convo.speakers, me=convo.speakers[0],
                         words_file=vtt, keep_words=True)
    lang = review_to_json(review)["language"]
    assert lang["words_kept"] and any(u.get("text") == "What was the best part of your day?" for u in lang["utterances"])
    strengths = summarize(review, config=CONFIG.summary).strengths
    assert any('"What was the best part of your day?"' in s for s in strengths), strengths


@pytest.mark.realdata
def test_the_recognizer_hears_real_read_speech(shared_data):
    wav = shared_data / "speech" / "spk1_snt1.wav"
    truth = dict(line.split("\t", 1) for line in (shared_data / "speech" / "transcripts.tsv").read_text().splitlines()
                 if "\t" in line)
    review = review_file(wav, config=CONFIG, speaker_names=["reader"], num_speakers=1, keep_words=True)
    said = " ".join(u.text for u in review.words).lower()
    expected = truth.get("spk1_snt1.wav", truth.get("spk1_snt1", "")).strip().split()
    heard = sum(w.strip(".,?!") in said for w in expected)
    assert expected and heard >= 0.8 * len(expected), (said, expected)


def test_no_words_and_the_vtt_export_through_the_cli(talk, tmp_path):
    convo, wav, vtt = talk
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    cmd = [str(ATTUNE)] if ATTUNE.exists() else [sys.executable, "-m", "attunement"]

    def attune(*args):
        return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=env, timeout=300)

    out = tmp_path / "plain.json"
    proc = attune("review", wav, "--channels-are-speakers", "--no-words", "--json", out, "--quiet", "--no-save")
    assert proc.returncode == 0, proc.stderr
    assert "language" not in json.loads(out.read_text())
    proc = attune("review", wav, "--channels-are-speakers", "--words", vtt, "--quiet")  # kept without the words
    assert proc.returncode == 0, proc.stderr
    proc = attune("export", "last", "--format", "vtt", "-o", tmp_path / "none.vtt")
    assert proc.returncode == 2 and "--keep-words" in proc.stderr and not (tmp_path / "none.vtt").exists()
    proc = attune("review", wav, "--channels-are-speakers", "--words", vtt, "--keep-words", "--quiet")
    assert proc.returncode == 0, proc.stderr
    got = tmp_path / "got.vtt"
    proc = attune("export", "last", "--format", "vtt", "-o", got)
    assert proc.returncode == 0, proc.stderr
    assert got.read_text().startswith("WEBVTT") and "What was the best part of your day?" in got.read_text()
    assert stat.S_IMODE(os.stat(got).st_mode) == 0o600
