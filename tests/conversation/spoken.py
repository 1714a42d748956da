"""Two-person practice conversations spoken by espeak-ng (two voices) with exact truth, for the
end-to-end check of words -> language cues (tests/conversation/test_language_e2e.py, benchmarks/bench_words.py).

Each script line is (speaker, text, cues): the cues that line holds, one per sentence, written by
hand with the script (open_q, closed_q, i_stmt, validation; the other cues are not counted here).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attunement.records import Segment

VOICES = {"ana": "en-us+f3", "ben": "en-us+m3"}
RATE = 16000

SCRIPTS: list[list[tuple[str, str, tuple[str, ...]]]] = [
    [("ana", "How was your day at work?", ("open_q",)),
     ("ben", "It was long. My manager moved every deadline again.", ()),
     ("ana", "That sounds really frustrating.", ("validation",)),
     ("ben", "I feel exhausted when the plans change at the last minute.", ("i_stmt",)),
     ("ana", "What would help you tonight?", ("open_q",)),
     ("ben", "Maybe a quiet dinner. Thank you for asking.", ("validation",))],
    [("ben", "Did you call your sister back?", ("closed_q",)),
     ("ana", "Not yet. I'm nervous about talking to her.", ("i_stmt",)),
     ("ben", "I can see why that would be hard.", ("validation",)),
     ("ana", "I need a little more time to think.", ("i_stmt",)),
     ("ben", "What are you hoping she will say?", ("open_q",))],
    [("ana", "Are you free this weekend?", ("closed_q",)),
     ("ben", "I think so. Why do you ask?", ("open_q",)),
     ("ana", "I would like us to spend a day together.", ("i_stmt",)),
     ("ben", "I love that idea.", ()),
     ("ana", "Where would you like to go?", ("open_q",)),
     ("ben", "Somewhere by the sea would be nice.", ())],
    [("ben", "What was the best part of your trip?", ("open_q",)),
     ("ana", "Seeing my grandmother again.", ()),
     ("ben", "How is she doing these days?", ("open_q",)),
     ("ana", "She is getting older. I worry about her.", ("i_stmt",)),
     ("ben", "That makes a lot of sense.", ("validation",)),
     ("ana", "Thanks for listening.", ("validation",))],
    [("ana", "You always leave the dishes for me.", ()),
     ("ben", "That's not true.", ()),
     ("ana", "I feel tired when I do all the cleaning.", ("i_stmt",)),
     ("ben", "I hear you.", ("validation",)),
     ("ben", "How can we share the work better?", ("open_q",)),
     ("ana", "Maybe we could make a plan together.", ())],
    [("ben", "Do you want to talk about the interview?", ("closed_q",)),
     ("ana", "Yes. I'm disappointed that I didn't get the job.", ("i_stmt",)),
     ("ben", "That must have been really discouraging.", ("validation",)),
     ("ana", "It was. I really wanted that one.", ()),
     ("ben", "What did you learn from it?", ("open_q",))],
    [("ana", "What made you smile today?", ("open_q",)),
     ("ben", "My daughter drew me a picture.", ()),
     ("ana", "Tell me about the picture.", ("open_q",)),
     ("ben", "It was our family at the beach.", ()),
     ("ana", "I'm so glad you shared that.", ("i_stmt",))],
    [("ben", "Is everything okay?", ("closed_q",)),
     ("ana", "I feel lonely since we moved.", ("i_stmt",)),
     ("ben", "Moving is hard. It's understandable that you feel that way.", ("validation",)),
     ("ana", "I miss my old friends.", ("i_stmt",)),
     ("ben", "Who could you call this week?", ("closed_q",))],
    [("ana", "Did you sleep well?", ("closed_q",)),
     ("ben", "Not really. I'm anxious about the move.", ("i_stmt",)),
     ("ana", "What part of it worries you most?", ("open_q",)),
     ("ben", "Leaving my friends behind.", ()),
     ("ana", "Of course you are sad about that.", ("validation",))],
    [("ben", "How do you feel about the new house?", ("open_q",)),
     ("ana", "I'm excited, but I'm scared of the cost.", ("i_stmt",)),
     ("ben", "That sounds stressful.", ("validation",)),
     ("ana", "Can we look at the budget together?", ("closed_q",)),
     ("ben", "Of course. What should we start with?", ("open_q",))],
    [("ana", "I appreciate everything you did for my birthday.", ("validation",)),
     ("ben", "I'm happy you liked it.", ("i_stmt",)),
     ("ana", "How did you plan all of that?", ("open_q",)),
     ("ben", "Your brother helped a lot.", ()),
     ("ana", "Should I thank him too?", ("closed_q",))],
    [("ben", "What do you need from me right now?", ("open_q",)),
     ("ana", "I need you to listen without fixing it.", ("i_stmt",)),
     ("ben", "Okay. I'm listening.", ()),
     ("ana", "I feel overwhelmed by my new job.", ("i_stmt",)),
     ("ben", "That must be so hard.", ("validation",)),
     ("ben", "What is the hardest part?", ("open_q",))],
]

COUNTED = {"open_q": "open_question", "i_stmt": "i_statement", "validation": "validation"}


@dataclass(frozen=True)
class Spoken:
    """One script spoken and mixed to one track: `audio` float32 [n] at 16 kHz, `segments` the
    exact span of each line, `truth` speaker -> cue -> count (open_question, i_statement, validation)."""

    audio: np.ndarray
    segments: tuple[Segment, ...]
    truth: dict[str, dict[str, int]]


def espeak_missing() -> str | None:
    """Why the spoken scripts cannot be made here, or None."""
    return None if shutil.which("espeak-ng") else "espeak-ng not installed (Debian package espeak-ng)"


def _say(text: str, voice: str, folder: Path, k: int) -> np.ndarray:
    from attunement.sources.media import read_audio

    out = folder / f"line{k}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(out), text], check=True, capture_output=True,
                   timeout=60)
    x = read_audio(out, rate=RATE)[0].mean(axis=0).astype(np.float32)
    level = np.sqrt(np.convolve(x.astype(np.float64) ** 2, np.ones(160) / 160, mode="same"))
    loud = np.flatnonzero(level > level.max() * 10 ** (-50 / 20))
    return x[loud[0]:loud[-1] + 1]


def speak_script(script, folder: Path, *, seed: int = 0) -> Spoken:
    """`script` spoken line by line into `folder`, mixed with 0.35-0.8 s gaps and -65 dBFS noise."""
    rng = np.random.default_rng(seed)
    pieces, segments, t = [], [], 0.5
    truth: dict[str, dict[str, int]] = {sp: {c: 0 for c in COUNTED.values()} for sp in VOICES}
    for k, (speaker, text, cues) in enumerate(script):
        x = _say(text, VOICES[speaker], folder, k)
        pieces.append((t, x))
        segments.append(Segment(t, t + x.size / RATE, speaker))
        for c in cues:
            if c in COUNTED:
                truth[speaker][COUNTED[c]] += 1
        t += x.size / RATE + rng.uniform(0.35, 0.8)
    audio = (rng.standard_normal(int((t + 0.5) * RATE)) * 10 ** (-65 / 20)).astype(np.float32)
    for start, x in pieces:
        i = round(start * RATE)
        audio[i:i + x.size] += 0.5 * x / np.abs(x).max()
    segments = [Segment(round(s.start * RATE) / RATE, round(s.start * RATE) / RATE + (s.end - s.start), s.speaker)
                for s in segments]
    return Spoken(audio, tuple(segments), truth)
