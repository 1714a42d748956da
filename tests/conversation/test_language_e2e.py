"""End to end: two-voice conversations spoken by espeak-ng, one track, transcribed per truth
segment, labelled; per-speaker counts of open questions, I statements and validations against the
scripts' own labels."""

from __future__ import annotations

import pytest

from attunement.config import default_config
from attunement.conversation.language import label_utterances, per_speaker
from attunement.session.words import recognizer as product_recognizer
from attunement.perception.transcribe import transcribe

from .spoken import COUNTED, HELD_OUT, SCRIPTS, espeak_missing, speak_script

pytestmark = pytest.mark.skipif(espeak_missing() is not None, reason=espeak_missing() or "")
CFG = default_config().words


def script_agreement(recognizer, folder, scripts) -> list[bool]:
    """Per script: are all per-speaker counts of the three cues exact?"""
    out = []
    for k, script in enumerate(scripts):
        spoken = speak_script(script, folder, seed=k)
        utts = transcribe(spoken.segments, spoken.audio, recognizer=recognizer, config=CFG)
        counts = per_speaker(label_utterances(utts, config=CFG), speakers=list(spoken.truth))
        got = {sp: {c: v.counts[c] for c in COUNTED.values()} for sp, v in counts.items()}
        out.append(got == spoken.truth)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("scripts, floor", [(SCRIPTS, 9), (HELD_OUT, 9)], ids=["first-12", "held-out-14"])
def test_spoken_scripts_counts(tmp_path, scripts, floor):
    agree = script_agreement(product_recognizer(CFG), tmp_path, scripts)
    # Target 90 %; measured 10 of 12 and 10 of 14 with the product's recognizer (phrase boost 0.5,
    # docs/words.md 4.3; 9 and 9 without) and the rig's voices (a 20 ms word gap, chosen on
    # the 85 scripts of labelled sentences, 86 % exact there; through a room 71 %, 5 and 7 of the 12 and 14); 7 and 8 with the old voices
    # (docs/words.md, section 4.1). The floors are one under, since a close call between two words
    # can go either way with the batch. The misses are recognition errors on espeak-ng's formant
    # voices ("I need" -> "I leave"), and three rule gaps in the held-out scripts.
    assert sum(agree) >= floor, agree


def test_room_impulse_response_has_the_rooms_reverberation():
    """The optional room of the rig (spoken.Room): each speaker's direct-to-reverberant ratio, the
    tail's energy falling 60 dB over the reverberation time, and the speaker's gain."""
    import numpy as np

    from .spoken import RATE, Room

    room = Room(rt60_s=0.4, drr_db=(4.0, 0.0), gain_db=(0.0, -4.0))
    for k in range(2):
        h = room.impulse(k, np.random.default_rng(k))
        direct, tail = h[0], h[1:]
        assert h.size == round(0.4 * RATE)
        assert 20 * np.log10(abs(direct)) == pytest.approx(room.gain_db[k], abs=1e-9)
        assert 10 * np.log10(direct ** 2 / np.sum(tail ** 2)) == pytest.approx(room.drr_db[k], abs=1e-9)
        assert not tail[:round(0.003 * RATE) - 1].any()  # the first reflections after 3 ms
        energy = [np.mean(tail[i:i + 800] ** 2) for i in (800, 4000)]  # 50-100 ms and 250-300 ms
        decay_db_per_s = 10 * np.log10(energy[0] / energy[1]) / 0.2
        assert decay_db_per_s == pytest.approx(60 / 0.4, rel=0.25)


def test_room_keeps_the_dry_lines_truth(tmp_path):
    """Through the room the truth segments are the dry lines' spans and the peak stays at -6 dBFS."""
    import numpy as np

    from .spoken import Room

    dry = speak_script(SCRIPTS[0][:2], tmp_path, seed=0)
    wet = speak_script(SCRIPTS[0][:2], tmp_path, seed=0, room=Room())
    assert wet.segments == dry.segments and wet.truth == dry.truth and wet.audio.size == dry.audio.size
    assert np.abs(wet.audio).max() == pytest.approx(0.5, abs=0.01)
    assert not np.allclose(wet.audio, dry.audio, atol=1e-3)
