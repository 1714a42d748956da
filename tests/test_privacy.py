"""Privacy, shown: the same results with the network gone; every folder 0700 and file 0600 (the
face profile too); no raw audio, video or transcript written unless asked; logs and errors without
what was said; `attune forget` deletes completely; models verified before use; the report loads
nothing. docs/privacy.md names each promise and the test here that holds it."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from attunement.cli import main
from attunement.session.store.history import history
from attunement.session.store.writer import SessionWriter, sessions_root
from attunement.sources.wav import write_wav
from tests.corpus.damaged import voice

REPO = Path(__file__).resolve().parents[1]
#: What was said in the transcripts below: must never reach a file, a log or an error unless kept.
SECRET = "zanzibar"
TRANSCRIPT = (f"WEBVTT\n\n00:00.200 --> 00:01.200\n<v speaker>I never told anyone about {SECRET}\n\n"
              f"00:01.600 --> 00:02.600\n<v speaker>my {SECRET} secret is safe\n")
#: The first bytes of media files: none may appear in what attunement writes (unless asked).
MEDIA_MAGIC = (b"RIFF", b"fLaC", b"OggS", b"\x1aE\xdf\xa3", b"ID3", b"\xff\xfb")


@pytest.fixture
def talk(tmp_path) -> Path:
    path = tmp_path / "talk.wav"
    write_wav(path, voice(3.0, 16000), 16000)
    return path


def written(*roots: Path) -> list[Path]:
    return [Path(p) / f for r in roots for p, _, files in os.walk(r) for f in files]


def modes_ok(root: Path) -> list[str]:
    """Folders not 0700 and files not 0600 under `root` (root itself included)."""
    bad = []
    for parent, dirs, files in os.walk(root):
        for d in [parent, *(os.path.join(parent, d) for d in dirs)]:
            if stat.S_IMODE(os.stat(d).st_mode) != 0o700:
                bad.append(f"{d}: {oct(stat.S_IMODE(os.stat(d).st_mode))}")
        for f in files:
            p = os.path.join(parent, f)
            if stat.S_IMODE(os.stat(p).st_mode) != 0o600:
                bad.append(f"{p}: {oct(stat.S_IMODE(os.stat(p).st_mode))}")
    return sorted(set(bad))


def review_all(talk: Path, out: Path, *extra: str) -> int:
    out.mkdir(exist_ok=True)
    return main(["review", str(talk), "--no-words", "--quiet", "--json", str(out / "r.json"),
                 "--rttm-out", str(out / "r.rttm"), "--report", str(out / "r.html"), *extra])


# --- files are yours alone, and hold no media ---------------------------------------------------------------

def test_a_review_writes_only_private_files_without_media(talk, tmp_path, private_data_home):
    out = tmp_path / "out"
    assert review_all(talk, out) == 0
    data = private_data_home / "attunement"
    assert modes_ok(data) == []
    assert [p for p in written(out) if stat.S_IMODE(p.stat().st_mode) != 0o600] == []
    for p in written(data, out):
        head = p.read_bytes()[:16]
        assert not head.startswith(MEDIA_MAGIC), f"{p} looks like a media file"
        assert p.stat().st_size < talk.stat().st_size, f"{p} is as big as the recording"


def test_the_face_profile_is_private(tmp_path, private_data_home):
    from attunement.cues.calibration import Baseline, save_profile
    from attunement.session.runners.calibrate import default_profile_path

    fields = {f: 0.0 for f in Baseline.__dataclass_fields__}
    fields |= {"frames": 10} if "frames" in fields else {}
    profile = default_profile_path()
    save_profile(Baseline(**fields), profile)
    assert modes_ok(profile.parent) == []


# --- what was said ----------------------------------------------------------------------------------------

def test_the_transcript_is_written_only_when_asked(talk, tmp_path, private_data_home, capsys):
    words = tmp_path / "said.vtt"
    words.write_text(TRANSCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["review", str(talk), "--words", str(words), "--json", str(out / "r.json"),
                 "--report", str(out / "r.html")]) == 0
    shown = capsys.readouterr()
    leaked = [p for p in written(private_data_home, out) if SECRET.encode() in p.read_bytes()]
    assert leaked == [] and SECRET not in shown.out + shown.err
    assert json.loads((out / "r.json").read_text()).get("language")  # the counts and labels are there
    kept = tmp_path / "kept"
    kept.mkdir()
    assert main(["review", str(talk), "--words", str(words), "--keep-words", "--json", str(kept / "r.json")]) == 0
    assert SECRET.encode() in (kept / "r.json").read_bytes()  # the check above can see the words


def test_logs_never_hold_what_was_said(talk, tmp_path, caplog, capsys):
    words = tmp_path / "said.vtt"
    words.write_text(TRANSCRIPT)
    caplog.set_level(logging.DEBUG)
    assert main(["--debug", "review", str(talk), "--words", str(words), "--no-save", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert SECRET not in caplog.text and SECRET not in err
    assert "words:" in caplog.text  # the log did run at debug level


BROKEN = {
    "no-speaker.vtt": f"WEBVTT\n\n00:00.000 --> 00:01.000\n{SECRET} without a voice\n",
    "reversed.vtt": f"WEBVTT\n\n00:02.000 --> 00:01.000\n<v a>{SECRET}\n",
    "unsorted.vtt": f"WEBVTT\n\n00:02.000 --> 00:03.000\n<v a>{SECRET}\n\n00:00.000 --> 00:01.000\n<v a>{SECRET}\n",
    "bad.srt": f"1\n00:00:00,000 --> 00:00:xx,000\na: {SECRET}\n",
    "no-speaker.srt": f"1\n00:00:00,000 --> 00:00:01,000\n{SECRET}\n",
    "bad.TextGrid": f'File type = "ooTextFile"\nObject class = "TextGrid"\nxmin = 0\nxmax = {SECRET}\n',
    "words.json": json.dumps([{"speaker": "a", "start": 1, "end": 0, "text": SECRET}]),
    "types.json": json.dumps([{"speaker": "a", "start": SECRET, "end": 1, "text": SECRET}]),
    "cue.vtt": f"WEBVTT\n\n{SECRET} --> 00:01.000\n<v a>hello\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_errors_about_a_transcript_never_quote_what_was_said(talk, tmp_path, capsys, name):
    path = tmp_path / name
    path.write_text(BROKEN[name])
    status = main(["review", str(talk), "--words", str(path), "--no-save", "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("attune: error:"), err
    assert SECRET not in err, err


# --- attune forget ----------------------------------------------------------------------------------------

def test_forget_a_session_deletes_every_file_in_it(talk, tmp_path, capsys):
    out = tmp_path / "out"
    assert review_all(talk, out) == 0 and review_all(talk, out) == 0
    folders = [Path(h["folder"]) for h in history()]
    assert len(folders) == 2
    with SessionWriter("practice") as writer:  # a live session's signals, and the debris of a killed write
        writer.append("vad", np.zeros(100, [("t", "<f8"), ("p", "<f4")]))
    (writer.folder / "meta.json.tmp").write_text("{}")
    (writer.folder / "audio.wav").write_bytes(b"RIFF")
    assert main(["forget", writer.folder.name]) == 0
    assert not writer.folder.exists()
    assert main(["forget", "last"]) == 0
    assert not folders[1].exists() and folders[0].exists()
    assert "Forgot" in capsys.readouterr().out


def test_forget_all_asks_for_yes_then_leaves_nothing(talk, tmp_path, capsys):
    out = tmp_path / "out"
    for _ in range(3):
        assert review_all(talk, out) == 0
    assert main(["forget", "--all"]) == 2 and len(history()) == 3
    assert main(["forget", "--all", "--yes"]) == 0
    assert history() == [] and written(sessions_root()) == []
    assert main(["forget", "--all", "--yes"]) == 0  # nothing left is not an error


def test_forget_the_profile_deletes_it_and_every_copy(tmp_path, capsys):
    from attunement.session.runners.calibrate import default_profile_path
    from attunement.session.store.formats import PROFILE_FILE

    profile = default_profile_path()
    profile.write_text("{}")
    with SessionWriter("practice") as writer:
        pass
    (writer.folder / PROFILE_FILE).write_text("{}")
    assert main(["forget", "--profile"]) == 0
    assert not profile.exists() and not (writer.folder / PROFILE_FILE).exists()
    assert "Forgot the calibration profile: 2 files deleted." in capsys.readouterr().out
    assert main(["forget", "--profile"]) == 0 and "No calibration profile" in capsys.readouterr().out


def test_forget_refuses_a_running_session_and_what_is_not_a_session(tmp_path, capsys):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        writer = SessionWriter("practice")
        writer.meta["pid"] = sleeper.pid
        writer.close("ended")
        meta = json.loads((writer.folder / "meta.json").read_text()) | {"status": "running", "pid": sleeper.pid}
        (writer.folder / "meta.json").write_text(json.dumps(meta))
        assert main(["forget", str(writer.folder)]) == 2
        assert writer.folder.exists() and "still running" in capsys.readouterr().err
    finally:
        sleeper.kill()
        sleeper.wait()
    plain = tmp_path / "not-a-session"
    plain.mkdir()
    (plain / "keep.txt").write_text("mine")
    from attunement.session.store.forget import forget_session

    with pytest.raises(Exception, match="not a session folder"):
        forget_session(plain)
    assert (plain / "keep.txt").exists()
    assert main(["forget"]) == 2


# --- models verified, the report loads nothing ----------------------------------------------------------------

def test_a_model_file_is_verified_before_every_use(tmp_path, monkeypatch):
    from attunement.models import ModelError, cache_dir, model_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    try:
        path = model_path("asr-tokenizer")
    except ModelError as e:
        pytest.skip(f"the speech models are not installed: {e}")
    assert path.parent == cache_dir() and stat.S_IMODE(path.stat().st_mode) == 0o600
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="altered"):
        model_path("asr-tokenizer")
    path.unlink()
    assert model_path("asr-tokenizer").read_bytes() != bytes(data)  # extracted again, whole


def test_the_report_refers_to_nothing_outside_itself(talk, tmp_path):
    import re

    out = tmp_path / "out"
    assert review_all(talk, out) == 0
    html = (out / "r.html").read_text()
    outside = re.compile(r"""(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:[a-z]+:)?//|url\(\s*["']?"""
                         r"""\s*(?:[a-z]+:)?//|@import|<script[^>]+src|<link[^>]+href|fetch\(|XMLHttpRequest|WebSocket""",
                         re.I)
    assert outside.findall(html) == []


# --- no network ----------------------------------------------------------------------------------------------

BLOCKER = textwrap.dedent('''
    """Loaded first by every Python process of the privacy test: opening a network socket fails and is recorded."""
    import os
    import socket

    _real = socket.socket
    _LOCAL = {getattr(socket, "AF_UNIX", -1)}


    def _refuse(what):
        with open(os.environ["ATTUNE_NET_LOG"], "a") as f:
            f.write(what + "\\n")
        raise OSError(101, "network blocked by the privacy test: " + what)


    class NoNetwork(_real):
        def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
            if fileno is None and family not in _LOCAL:
                _refuse(f"socket({family}, {type})")
            super().__init__(family, type, proto, fileno)


    socket.socket = NoNetwork
    socket.create_connection = lambda *a, **k: _refuse(f"create_connection{a[:1]}")
    socket.getaddrinfo = lambda *a, **k: _refuse(f"getaddrinfo{a[:1]}")
''')

CHILD = textwrap.dedent("""
    import json, socket, sys
    import numpy as np
    from attunement.config import default_config
    from attunement.summary.json_out import review_to_json

    mode, path, root, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
    config = default_config()
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
        network = "open"
    except OSError:
        network = "blocked"
    if mode == "review":
        from attunement.session.runners.offline import review_file
        review = review_file(path, config=config, channels_are_speakers=True, speaker_names=names, me=names[0])
    elif mode == "session":
        from attunement.session.runners.live import run_session
        from attunement.sources.camera import Camera
        from attunement.sources.clock import SessionClock
        from attunement.sources.microphone import Microphone
        clock = SessionClock()
        with Camera(path, pace=0, clock=clock, start=0.0) as cam, Microphone(path, pace=0, clock=clock, start=0.0) as mic:
            review = run_session(camera=cam, mic=mic, config=config, speaker_names=names, me=names[0], root=root,
                                 channels_are_speakers=True).review
    else:
        from attunement.session.rehearsal.scenario import load_scenario
        from attunement.session.runners.rehearse import run_rehearsal
        from tests.session.test_rehearse import T0, ScriptedRoom, SyntheticVoice
        rng = np.random.default_rng(1)
        room = ScriptedRoom(rng)
        review = run_rehearsal(scenario=load_scenario("check-in"), mic=room, config=config, player=room.play,
                               voice=SyntheticVoice(rng), root=root, start_s=T0 + 0.5).review
    out = review_to_json(review)
    out.pop("input", None)
    print(json.dumps({"network": network, "review": out}, sort_keys=True, default=str))
""")


def isolated(tmp: Path) -> tuple[list[str], dict]:
    """The command prefix and environment of a child with no network: `unshare -n` (a new network
    namespace without interfaces) when allowed, and in every case Python sockets refused and logged."""
    site = tmp / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {"PYTHONPATH": f"{site}:{REPO / 'src'}:{REPO}", "ATTUNE_NET_LOG": str(tmp / "net.log")}
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"], env
    return [], env


def child(mode: str, clip: Path, names, tmp: Path, *, offline: bool) -> dict:
    prefix, extra = isolated(tmp) if offline else ([], {"PYTHONPATH": f"{REPO / 'src'}:{REPO}"})
    env = dict(os.environ, **extra)
    root = tmp / f"sessions-{mode}-{offline}"
    proc = subprocess.run([*prefix, sys.executable, "-c", CHILD, mode, str(clip), str(root), ",".join(names)],
                          env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["review", "session", "rehearsal"])
def test_the_same_results_with_the_network_gone(demo_clips, tmp_path, mode):
    clip, names = demo_clips.clip(15.0), demo_clips.conversation.speakers
    online = child(mode, clip, names, tmp_path, offline=False)
    cut_off = child(mode, clip, names, tmp_path, offline=True)
    assert online["network"] == "open" and cut_off["network"] == "blocked"
    attempts = (tmp_path / "net.log").read_text().splitlines()
    assert attempts == [f"socket({int(socket.AF_INET)}, {int(socket.SOCK_STREAM)})"], attempts  # only the probe
    assert cut_off["review"] == online["review"]
