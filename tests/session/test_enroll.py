"""`attune enroll` keeps a voice; a one-microphone review then labels that voice `me` without a camera."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attunement.sources.media import read_audio
from attunement.sources.wav import write_wav

ATTUNE = Path(sys.executable).with_name("attune")


def _speech(shared_data, speaker: str, numbers) -> list[np.ndarray]:
    return [read_audio(shared_data / "speech" / f"{speaker}_snt{k}.wav")[0][0] for k in numbers]


@pytest.mark.realdata
@pytest.mark.slow
def test_enroll_then_a_one_microphone_review_knows_me(shared_data, tmp_path):
    rate = 16000
    mine = _speech(shared_data, "spk1", (1, 2, 3, 4))
    enrol = tmp_path / "me.wav"
    write_wav(enrol, np.concatenate(mine * 2)[None], rate)  # about 20 s of the user alone
    gap = np.zeros(int(0.6 * rate), np.float32)
    talk_parts, truth = [], []
    t = 0.0
    for k, x in enumerate(_speech(shared_data, "spk2", (1, 2, 3, 4)) + _speech(shared_data, "spk1", (5, 6))):
        talk_parts += [x, gap]
        truth.append(("me" if k >= 4 else "other", t, t + x.size / rate))
        t += (x.size + gap.size) / rate
    order = [0, 4, 1, 5, 2, 3]  # alternate the two voices
    parts = [talk_parts[2 * i] for i in order]
    talk = tmp_path / "talk.wav"
    write_wav(talk, np.concatenate([np.concatenate([p, gap]) for p in parts])[None], rate)
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    cmd = [str(ATTUNE)] if ATTUNE.exists() else [sys.executable, "-m", "attunement"]
    proc = subprocess.run(cmd + ["enroll", str(enrol)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    saved = tmp_path / "data" / "attunement" / "voice.json"
    assert saved.exists() and stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    out = tmp_path / "r.json"
    proc = subprocess.run(cmd + ["review", str(talk), "--speakers", "2", "--no-words", "--no-save", "--json", str(out),
                                 "--quiet"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    review = json.loads(out.read_text())
    assert "me" in review["speakers"], review["speakers"]
    # the speech labelled me is the enrolled voice's: spk1's two sentences come 2nd and 4th
    me = [s for s in review["segments"] if s["speaker"] == "me"]
    starts = np.cumsum([0] + [(p.size + gap.size) / rate for p in parts])
    mine_spans = [(starts[1], starts[2] - 0.6), (starts[3], starts[4] - 0.6)]
    covered = sum(max(0.0, min(s["end"], b) - max(s["start"], a)) for s in me for a, b in mine_spans)
    assert covered >= 0.9 * sum(b - a for a, b in mine_spans)
    proc = subprocess.run(cmd + ["enroll", str(tmp_path / "none.wav")], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("attune: error:")
