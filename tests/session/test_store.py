"""The session store: private folders, records appended at least every second, sessions read
back whole, and a session killed with SIGKILL mid-write read back up to about a second before."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from attunement.errors import InputError
from attunement.records import VoiceActivity
from attunement.session.store.writer import SessionWriter, list_sessions, load_session, sessions_root, slugify, voice_records

CUE = np.dtype([("t", "<f8"), ("eye_contact", "?"), ("yaw_deg", "<f4")])


def cue_records(rng, n: int, t0: float = 0.0) -> np.ndarray:
    rec = np.zeros(n, CUE)
    rec["t"] = t0 + np.arange(n) / 30
    rec["eye_contact"] = rng.random(n) < 0.5
    rec["yaw_deg"] = rng.normal(0, 10, n)
    rec["yaw_deg"][::7] = np.nan  # frames without a face
    return rec


def assert_records_equal(a: np.ndarray, b: np.ndarray) -> None:
    """Field by field, so NaN equals NaN."""
    assert a.dtype == b.dtype and a.shape == b.shape
    for name in a.dtype.names:
        np.testing.assert_array_equal(a[name], b[name])


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_session_round_trips_with_private_permissions(tmp_path, rng, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    speech = rng.random((2, 50)) < 0.4
    level = rng.normal(-30, 5, (2, 50)).astype(np.float32)
    cues = cue_records(rng, 40)
    with SessionWriter("Ana & Ben: practice #1", sources={"camera": "0", "microphone": "default"},
                       settings={"vad": {"hop_s": 0.01}}) as w:
        w.append_voice(VoiceActivity(speech[:, :20], level[:, :20], 0.01, 0.0))
        w.append_voice(VoiceActivity(speech[:, 20:], level[:, 20:], 0.01, 0.2))
        w.append("cues", cues[:25])
        w.append("cues", cues[25:])
    root = tmp_path / "data" / "attunement" / "sessions"
    assert sessions_root() == root and list_sessions() == [w.folder]
    assert w.folder.parent == root and w.folder.name.endswith("Z-ana-ben-practice-1")
    assert mode(w.folder) == 0o700 and mode(root) == 0o700 and mode(root.parent) == 0o700
    assert {p.name for p in w.folder.iterdir()} == {"meta.json", "voice.log", "cues.log"}
    assert all(mode(p) == 0o600 for p in w.folder.iterdir())
    s = load_session(w.folder)
    assert s.status == "ended" and s.notes == ()
    assert s.meta["sources"] == {"camera": "0", "microphone": "default"}
    assert s.meta["settings"] == {"vad": {"hop_s": 0.01}}
    assert_records_equal(s.signals["cues"], cues)
    voice = s.signals["voice"]
    np.testing.assert_array_equal(voice["speech"].T, speech)
    np.testing.assert_array_equal(voice["level_db"].T, level)
    np.testing.assert_allclose(voice["t"], np.arange(50) * 0.01, atol=1e-12)


def test_voice_records_hold_one_frame_each():
    act = VoiceActivity(np.array([[1, 0, 1]], bool), np.array([[-10, -50, -12]], np.float32), 0.03, 1.5)
    rec = voice_records(act)
    assert rec["t"].tolist() == [1.5, 1.53, 1.56]
    assert rec["speech"][:, 0].tolist() == [True, False, True]


def test_leaving_by_an_exception_marks_the_session_interrupted(tmp_path, rng):
    with pytest.raises(KeyboardInterrupt):
        with SessionWriter(root=tmp_path) as w:
            w.append("cues", cue_records(rng, 5))
            raise KeyboardInterrupt
    s = load_session(w.folder)
    assert s.status == "interrupted" and s.signals["cues"].size == 5


def test_a_torn_last_chunk_is_ignored_and_noted(tmp_path, rng):
    cues = cue_records(rng, 30)
    with SessionWriter(root=tmp_path) as w:
        w.append("cues", cues[:10])
        w.flush()
        w.append("cues", cues[10:])
    log = w.folder / "cues.log"
    whole = log.read_bytes()
    for cut in (5, 12 + 3 * CUE.itemsize + 1):  # inside the header, inside the payload
        log.write_bytes(whole[:-cut])
        s = load_session(w.folder)
        assert_records_equal(s.signals["cues"], cues[:10])
        assert len(s.notes) == 1 and s.notes[0].startswith("cues: ignored")
    log.write_bytes(whole[:-1] + bytes([whole[-1] ^ 0xFF]))  # a damaged byte: the CRC catches it
    assert load_session(w.folder).signals["cues"].size == 10


def test_misuse_is_a_clear_error(tmp_path, rng):
    with SessionWriter(root=tmp_path) as w:
        w.append("cues", cue_records(rng, 3))
        with pytest.raises(ValueError, match="stream 'cues' holds"):
            w.append("cues", np.zeros(3))
        with pytest.raises(ValueError, match="stream name"):
            w.append("../evil", np.zeros(3))
    with pytest.raises(RuntimeError, match="after close"):
        w.append("cues", cue_records(rng, 3))
    with pytest.raises(InputError, match="not a session folder"):
        load_session(tmp_path)
    assert slugify("  ?? ") == "session" and slugify("Übung mit Ben") == "bung-mit-ben"


def test_two_sessions_in_the_same_second_get_their_own_folders(tmp_path):
    with SessionWriter("x", root=tmp_path) as a, SessionWriter("x", root=tmp_path) as b:
        assert a.folder != b.folder and a.folder.is_dir() and b.folder.is_dir()


WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from attunement.session.store.writer import SessionWriter
    w = SessionWriter("killed", root=sys.argv[1])
    print(w.folder, flush=True)
    k = 0
    while True:  # one record every 10 ms, stamped with the machine-wide monotonic clock
        rec = np.zeros(1, [("k", "<i8"), ("t", "<f8")])
        rec["k"], rec["t"] = k, time.monotonic()
        w.append("cues", rec)
        k += 1
        time.sleep(0.01)
""")


def test_a_session_killed_mid_write_keeps_everything_up_to_about_a_second_before(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    folder = proc.stdout.readline().strip()
    time.sleep(2.5)
    killed_at = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    s = load_session(folder)
    assert s.status == "interrupted"
    assert any("did not end cleanly" in n for n in s.notes)
    rec = s.signals["cues"]
    assert rec["k"].tolist() == list(range(rec.size))  # nothing missing in between
    # flushed every second (fsync'ed): at most about a second is lost (0.25 s for scheduling)
    assert rec["t"][-1] > killed_at - 1.25
    assert json.loads((tmp_path / os.path.basename(folder) / "meta.json").read_text())["status"] == "running"


def test_stored_windows_come_back_once_each_in_order(rng, tmp_path):
    """The trained diarizer's windows (formats.py seg/emb) through the store: a window handed on
    twice (the last, embedded at the end) is kept once; embeddings of a window whose seg record a
    kill cut off are dropped; the embeddings come back in (window, speaker) order."""
    from attunement.conversation.neural_live import WindowOutput
    from attunement.session.store.formats import window_records, windows_from_records

    def window(k, speakers=()):
        act = (rng.random((589, 3)) < 0.3).astype(np.float32)
        v = rng.standard_normal((len(speakers), 256)).astype(np.float32)
        return WindowOutput(k, 40000 * k, act, bool(speakers), v, np.array(speakers, np.int64),
                            np.array([s != 2 for s in speakers], np.bool_))

    outs = [window(0, (0, 2)), window(1), window(2), window(2, (1,)), window(3, (0,))]
    outs[3] = WindowOutput(2, 80000, outs[2].activity, True, outs[3].vectors, outs[3].speakers, outs[3].train)
    with SessionWriter(root=tmp_path) as writer:
        for o in outs:
            seg, emb = window_records(o)
            if o.index < 3:  # window 3's seg record never reached the disk
                writer.append("seg", seg)
            writer.append("emb", emb)
    signals = load_session(writer.folder).signals
    w = windows_from_records(signals["seg"], signals["emb"])
    np.testing.assert_array_equal(w["starts"], [0, 40000, 80000])
    np.testing.assert_array_equal(w["activity"], np.stack([o.activity for o in outs[:3]]))  # float16 holds 0/1
    np.testing.assert_array_equal(w["which"], [[0, 0], [0, 2], [2, 1]])
    np.testing.assert_array_equal(w["vectors"], np.concatenate([outs[0].vectors, outs[3].vectors]))
    np.testing.assert_array_equal(w["train"], [True, False, True])
