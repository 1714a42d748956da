"""The words log of a live session: written as the words are heard (times and labels; the text only
with --keep-words), read back by the rebuild of a killed session, and the review at a session's
end and its rebuild carry the same words and cues."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from attunement.config import default_config
from attunement.perception.transcribe import utterance_of
from attunement.session.runners.live import run_session
from attunement.session.runners.rebuild import load_review
from attunement.session.store.words_log import STREAM, WORDS_DTYPE, heard_from_records, heard_records
from attunement.session.store.writer import load_session
from attunement.session.words import hear
from attunement.sources.clock import SessionClock
from attunement.sources.microphone import Microphone
from attunement.sources.wav import write_wav
from tests.conftest import REPO, kill_when
from tests.conversation.spoken import espeak_missing, speak_script

CONFIG = default_config()

SCRIPT = [("ana", "How was your weekend at the lake?", ("open_q",)),
          ("ben", "It was lovely. I feel so relaxed now.", ()),
          ("ana", "That sounds really wonderful.", ()),
          ("ben", "What did you do on Sunday?", ("open_q",)),
          ("ana", "I stayed home. I'm worried about my exam.", ("i_stmt",)),
          ("ben", "That must be so stressful.", ("validation",)),
          ("ana", "Thank you for asking about it.", ("validation",)),
          ("ben", "Do you want to study together tonight?", ()),
          ("ana", "Yes please, I would like that.", ("i_stmt",)),
          ("ben", "Where should we meet?", ("open_q",))]


def test_the_log_keeps_times_and_labels_and_the_text_only_when_asked():
    said = [utterance_of("ana", ((0.0, 2.0),), "I feel so lonely here. What would help?"),
            utterance_of("ben", ((2.5, 4.0),), "It sounds like you feel lonely here.")]
    heard = [hear(u, said[:k], one_track=False, config=CONFIG.words) for k, u in enumerate(said)]
    assert [s.labels for s in heard[0].sentences] == [{"i_statement"}, {"open_question"}]
    assert heard[1].sentences[0].labels == {"reflection"}
    for keep in (False, True):
        rec = np.concatenate([heard_records(k, h, channel=k, keep_words=keep) for k, h in enumerate(heard)])
        assert rec.dtype == WORDS_DTYPE and (b"lonely" in rec.tobytes()) == keep
        back = heard_from_records(rec, names=["ana", "ben"])
        assert [[s.labels for s in h.sentences] for h in back] == [[s.labels for s in h.sentences] for h in heard]
        assert [[(w.start, w.end) for w in h.utterance.words] for h in back] == \
               [[(w.start, w.end) for w in u.words] for u in said]
        assert [h.utterance.speaker for h in back] == ["ana", "ben"]
        assert [h.utterance.text for h in back] == ([u.text for u in said] if keep else ["", ""])
        assert back[0].sentences[0].feeling and not back[1].sentences[0].feeling


@pytest.fixture(scope="module")
def two_channels(tmp_path_factory):
    """SCRIPT spoken by espeak-ng, one channel per speaker (the other's lines silent there): the wav."""
    if espeak_missing():
        pytest.skip(espeak_missing())
    folder = tmp_path_factory.mktemp("spoken")
    spoken = speak_script(SCRIPT, folder, seed=3)
    t = np.arange(spoken.audio.size) / 16000
    rng = np.random.default_rng(3)
    channels = []
    for name in ("ana", "ben"):
        mine = np.zeros(t.size, bool)
        for s in spoken.segments:
            if s.speaker == name:
                mine |= (t >= s.start) & (t < s.end)
        floor = (rng.standard_normal(t.size) * 10 ** (-65 / 20)).astype(np.float32)
        channels.append(np.where(mine, spoken.audio, floor))
    path = folder / "two.wav"
    write_wav(path, np.stack(channels), 16000)
    return path, spoken


def _rows(review):
    return [(u["speaker"], u["start"], u["end"], u["sentences"]) for u in review.language.to_json()["utterances"]]


@pytest.mark.slow
def test_a_sessions_end_and_its_rebuild_carry_the_same_words(two_channels, tmp_path):
    path, _ = two_channels
    with Microphone(path, pace=0, clock=SessionClock(), start=0.0) as mic:
        result = run_session(mic=mic, config=CONFIG, channels_are_speakers=True, speaker_names=["ana", "ben"],
                             me="ana", root=tmp_path, words=True)
    review = result.review
    counts = review.language.to_json()["per_speaker"]
    assert counts["me"]["open_question"] >= 1 and counts["partner"]["validation"] >= 1, counts  # --me ana
    rebuilt = load_review(result.folder, config=CONFIG)
    assert rebuilt.language.to_json() == review.language.to_json()
    assert [(w.speaker, w.start, w.end) for w in rebuilt.words] == [(w.speaker, w.start, w.end) for w in review.words]
    log = result.folder / f"{STREAM}.log"
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    assert all(u.text == "" and all(w.text == "" for w in u.words) for u in review.words)  # words not kept
    assert b"exam" not in log.read_bytes() and b"weekend" not in log.read_bytes()


KILLED = textwrap.dedent("""
    import sys
    from attunement.config import default_config
    from attunement.session.runners.live import run_session
    from attunement.sources.clock import SessionClock
    from attunement.sources.microphone import Microphone
    path, root = sys.argv[1], sys.argv[2]
    with Microphone(path, clock=SessionClock(), start=0.0, block_s=0.1) as mic:
        run_session(mic=mic, config=default_config(), channels_are_speakers=True, speaker_names=["ana", "ben"],
                    me="ana", root=root, words=True, keep_words=True)
""")


@pytest.mark.slow
def test_a_killed_session_is_rebuilt_with_the_words_it_had_heard(two_channels, tmp_path):
    """SIGKILL once the log holds four utterances: the rebuild has them, with the labels and the
    kept text the same session gives when it runs to its end."""
    path, _ = two_channels
    root = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=f"{REPO / 'src'}:{REPO}", PYTHONUNBUFFERED="1")
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as errors:
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(path), str(root)], env=env,
                                stdout=subprocess.DEVNULL, stderr=errors)

    def four_utterances_logged():
        logs = list(root.glob(f"*/{STREAM}.log"))
        if not logs:
            return None
        rec = load_session(logs[0].parent).signals.get(STREAM)
        return logs[0].parent if rec is not None and rec.size and len(set(rec["u"].tolist())) >= 4 else None

    folder = kill_when(proc, four_utterances_logged, what="four utterances in the words log", stderr=err,
                       timeout_s=120, poll_s=0.2)
    assert json.loads((folder / "meta.json").read_text())["status"] == "running"  # killed, never ended
    rebuilt = load_review(folder, config=CONFIG)
    assert any("did not end cleanly" in p for p in rebuilt.problems)
    assert rebuilt.words and rebuilt.language is not None and rebuilt.language.keep_words
    with Microphone(path, pace=0, clock=SessionClock(), start=0.0, block_s=0.1) as mic:  # blocks as in the killed one
        whole = run_session(mic=mic, config=CONFIG, channels_are_speakers=True, speaker_names=["ana", "ben"],
                            me="ana", root=tmp_path / "whole", words=True, keep_words=True).review
    got = rebuilt.language.to_json()["utterances"]
    want = whole.language.to_json()["utterances"][:len(got)]
    assert len(got) >= 4 and got == want  # times, speakers, labels and the kept text
    assert all(u["text"] for u in got)
