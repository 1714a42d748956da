"""A muted video is reviewed for what the camera shows, with a note that there was no sound; an audio
file that is only silence gets a plain note and no strength (issue 13). Real subprocesses."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from tests.test_cli import run

from attunement.sources.wav import write_wav


def muted_copy(src, dst):
    """The video stream of `src` copied into `dst` without its audio (no re-encoding)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream_from_template(vin)
        for packet in inp.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            out.mux(packet)


@pytest.mark.realdata
@pytest.mark.slow
def test_muted_video_is_reviewed_with_a_note(shared_data, tmp_path):
    src = shared_data / "video" / "WDA_KatieHill_000.mp4"
    if not src.is_file():
        pytest.skip(f"{src} not found")
    muted = tmp_path / "muted.mp4"
    muted_copy(src, muted)
    with av.open(str(muted)) as c:
        assert not c.streams.audio and c.streams.video
    out = tmp_path / "out.json"
    proc = run("review", muted, "--json", out, "--no-save")
    assert proc.returncode == 0, proc.stderr
    assert "no sound track" in proc.stdout, proc.stdout
    assert "no speech was heard" not in proc.stdout.lower()
    data = json.loads(out.read_text())
    assert any("no sound track" in p for p in data["problems"])
    assert data["segments"] == [] and data["cues"]["face_visible_share"] == 1.0
    assert data["cues"]["eye_contact_share"] >= 0.8 and data["cues"]["confidence"]["eye_contact"]["trusted"]
    assert "kept eye contact" in proc.stdout


def test_silent_audio_is_a_plain_note(tmp_path):
    path = tmp_path / "quiet.wav"
    write_wav(path, np.zeros((1, 16000 * 5), np.float32), 16000)
    proc = run("review", path, "--no-save")
    assert proc.returncode == 0, proc.stderr
    assert "What went well" not in proc.stdout and "no speech was heard" in proc.stdout.lower(), proc.stdout
