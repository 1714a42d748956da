"""End to end: two-voice conversations spoken by espeak-ng, one track, transcribed per truth
segment, labelled; per-speaker counts of open questions, I statements and validations against the
scripts' own labels."""

from __future__ import annotations

import pytest

from attunement.config import default_config
from attunement.conversation.language import label_utterances, per_speaker
from attunement.perception.asr import Recognizer
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
@pytest.mark.parametrize("scripts, floor", [(SCRIPTS, 8), (HELD_OUT, 8)], ids=["first-12", "held-out-14"])
def test_spoken_scripts_counts(tmp_path, scripts, floor):
    agree = script_agreement(Recognizer.load(threads=2), tmp_path, scripts)
    # Target 90 %; measured 9 of 12 and 9 of 14 with the rig's voices (a 20 ms word gap, chosen on
    # the 85 scripts of labelled sentences, 85 % exact there); 7 and 8 with the old voices
    # (docs/words.md, section 4.1). The floors are one under, since a close call between two words
    # can go either way with the batch. The misses are recognition errors on espeak-ng's formant
    # voices ("I need" -> "I leave"), and three rule gaps in the held-out scripts.
    assert sum(agree) >= floor, agree
