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

#: Each speaker's espeak-ng arguments: a female and a male variant of the American voice at 140
#: words per minute, with a 20 ms pause between words (`-g 2`, in 10 ms units at the default rate).
#: Chosen on the 510 labelled sentences of `labelled_scripts()`, never on SCRIPTS or HELD_OUT
#: (docs/words.md, section 4): without the pause espeak-ng runs its words together and Moonshine's
#: word error on them is 11.8 %, with it 7.5 %.
VOICES: dict[str, tuple[str, ...]] = {"ana": ("-v", "en-us+f3", "-s", "140", "-g", "2"),
                                      "ben": ("-v", "en-us+m3", "-s", "140", "-g", "2")}
#: The rig's first voices (no word gap), kept so their figures can be measured again (bench_words.py --old-voices).
OLD_VOICES: dict[str, tuple[str, ...]] = {"ana": ("-v", "en-us+f3", "-s", "140"), "ben": ("-v", "en-us+m3", "-s", "140")}
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

#: Scripts written after the first measurement (9 of SCRIPTS' 12 exact) and before the recognition
#: and rule changes that followed, never looked at while making them: the held-out end-to-end check.
HELD_OUT: list[list[tuple[str, str, tuple[str, ...]]]] = [
    [("ana", "What's been on your mind lately?", ("open_q",)),
     ("ben", "Mostly money. The rent went up again.", ()),
     ("ana", "That sounds like a lot of pressure.", ("validation",)),
     ("ben", "I feel stuck, and I'm worried we won't manage.", ("i_stmt",)),
     ("ana", "How can I support you this month?", ("open_q",)),
     ("ben", "Thank you for being here.", ("validation",))],
    [("ben", "Was the doctor's appointment okay?", ("closed_q",)),
     ("ana", "It went fine, but I'm scared about the results.", ("i_stmt",)),
     ("ben", "Waiting like that must be awful.", ("validation",)),
     ("ana", "I'd like you to come with me next time.", ("i_stmt",)),
     ("ben", "Of course I will. When is it?", ("closed_q",))],
    [("ana", "Why did you decide to change teams?", ("open_q",)),
     ("ben", "My old boss never gave me credit.", ()),
     ("ana", "I can understand why you wanted a fresh start.", ("validation",)),
     ("ben", "I feel more hopeful now.", ("i_stmt",)),
     ("ana", "What do you like most about the new team?", ("open_q",))],
    [("ben", "Do you have a minute to talk?", ("closed_q",)),
     ("ana", "Sure. What's going on?", ("open_q",)),
     ("ben", "I get nervous when you drive so fast.", ("i_stmt",)),
     ("ana", "Thank you for telling me.", ("validation",)),
     ("ana", "I'll slow down.", ()),
     ("ben", "I really appreciate that.", ("validation",))],
    [("ana", "How did the exam go?", ("open_q",)),
     ("ben", "Not great. I'm frustrated with myself.", ("i_stmt",)),
     ("ana", "It makes sense that you're upset after all that work.", ("validation",)),
     ("ben", "Can we go for a walk?", ("closed_q",)),
     ("ana", "Let's go now.", ())],
    [("ben", "What would make this weekend feel restful for you?", ("open_q",)),
     ("ana", "I need a morning without any plans.", ("i_stmt",)),
     ("ben", "That's completely understandable.", ("validation",)),
     ("ana", "Would you take the kids to the park?", ("closed_q",)),
     ("ben", "Yes, happily.", ())],
    [("ana", "Where do you see us in five years?", ("open_q",)),
     ("ben", "Honestly, I'm not sure. I'm afraid of planning that far ahead.", ("i_stmt",)),
     ("ana", "Thank you for being honest with me.", ("validation",)),
     ("ben", "How do you picture it?", ("open_q",))],
    [("ben", "Are you still angry about last night?", ("closed_q",)),
     ("ana", "A little. I felt ignored at the party.", ("i_stmt",)),
     ("ben", "I understand why that hurt.", ("validation",)),
     ("ana", "What were you thinking about all evening?", ("open_q",)),
     ("ben", "Work, mostly. I'm sorry.", ())],
    [("ana", "Tell me how your first week went.", ("open_q",)),
     ("ben", "Busy. Everyone talks very fast.", ()),
     ("ana", "What surprised you the most?", ("open_q",)),
     ("ben", "I'm proud that I finished my first project.", ("i_stmt",)),
     ("ana", "You did a great job.", ("validation",))],
    [("ben", "Is your back still hurting?", ("closed_q",)),
     ("ana", "Yes. I'm tired of being in pain.", ("i_stmt",)),
     ("ben", "That must be exhausting.", ("validation",)),
     ("ana", "Could you carry the groceries today?", ("closed_q",)),
     ("ben", "Of course.", ())],
    [("ana", "Did you enjoy the concert?", ("closed_q",)),
     ("ben", "It was amazing. The band played for three hours.", ()),
     ("ana", "What made it so special?", ("open_q",)),
     ("ben", "The crowd sang along to every word.", ()),
     ("ana", "I'm happy you had such a good night.", ("i_stmt",))],
    [("ben", "How are you feeling about your mother's visit?", ("open_q",)),
     ("ana", "I'm anxious. She criticises everything I cook.", ("i_stmt",)),
     ("ben", "No wonder you're on edge.", ("validation",)),
     ("ana", "Will you help me with dinner?", ("closed_q",)),
     ("ben", "Yes. What should I make?", ("open_q",))],
    [("ana", "You seem quiet tonight. Is something wrong?", ("closed_q",)),
     ("ben", "I feel left out when you make plans without me.", ("i_stmt",)),
     ("ana", "I hear what you're saying.", ("validation",)),
     ("ana", "How would you like us to plan next time?", ("open_q",)),
     ("ben", "Let's decide together on Sundays.", ())],
    [("ben", "What was the hardest moment today?", ("open_q",)),
     ("ana", "The meeting with my boss. I felt embarrassed in front of everyone.", ("i_stmt",)),
     ("ben", "That sounds painful.", ("validation",)),
     ("ana", "Thanks for listening to me.", ("validation",)),
     ("ben", "Anytime. Do you want some tea?", ("closed_q",))],
]

COUNTED = {"open_q": "open_question", "i_stmt": "i_statement", "validation": "validation"}


def labelled_scripts(names=("language_sentences.tsv", "language_fresh.tsv", "language_fresh2.tsv"),
                     lines: int = 6) -> list[list[tuple[str, str, tuple[str, ...]]]]:
    """Scripts of `lines` lines made of the labelled sentences of tests/conversation/`names` in file
    order, the speakers taking turns, each line with its own labels: a large end-to-end check
    (hundreds of lines) whose truth was written with the sentences, not with the scripts."""
    here = Path(__file__).parent
    rows = []
    for name in names:
        for line in (here / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                labels, _, text = line.split("\t")
                rows.append((text.strip(), tuple(x for x in labels.split(",") if x != "-")))
    return [[("ana" if j % 2 == 0 else "ben", text, cues) for j, (text, cues) in enumerate(rows[k:k + lines])]
            for k in range(0, len(rows), lines)]


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


def _say(text: str, voice: tuple[str, ...], folder: Path, k: int) -> np.ndarray:
    from attunement.sources.media import read_audio

    out = folder / f"line{k}.wav"
    subprocess.run(["espeak-ng", *voice, "-w", str(out), text], check=True, capture_output=True, timeout=60)
    x = read_audio(out, rate=RATE)[0].mean(axis=0).astype(np.float32)
    level = np.sqrt(np.convolve(x.astype(np.float64) ** 2, np.ones(160) / 160, mode="same"))
    loud = np.flatnonzero(level > level.max() * 10 ** (-50 / 20))
    return x[loud[0]:loud[-1] + 1]


@dataclass(frozen=True)
class Room:
    """One microphone in a furnished room, for a rig nearer a real recording than clean speech
    (docs/words.md, 4.2): each speaker's lines go through their own synthetic impulse response, a
    direct sound and then, after 3 ms, an exponentially decaying noise tail with reverberation time
    `rt60_s` (0.4 s: a furnished living room) at `drr_db` direct-to-reverberant
    ratio, at `gain_db` (the second speaker sits farther from the microphone); then pink noise
    `snr_db` under the speech's mean power (a quiet home's background, 30-35 dBA, against speech at
    60 dBA at 1 m). Per speaker in the order of the voices."""

    rt60_s: float = 0.4
    drr_db: tuple[float, float] = (4.0, 0.0)
    gain_db: tuple[float, float] = (0.0, -4.0)
    snr_db: float = 25.0

    def impulse(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """Speaker `k`'s impulse response at 16 kHz, float64 [rt60_s * 16000]; direct sound 1."""
        t = np.arange(round(self.rt60_s * RATE)) / RATE
        tail = rng.standard_normal(t.size) * np.exp(-6.91 * t / self.rt60_s) * (t >= 0.003)
        tail *= np.sqrt(10 ** (-self.drr_db[k] / 10) / np.sum(tail ** 2))
        tail[0] = 1.0
        return tail * 10 ** (self.gain_db[k] / 20)


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f power) noise, float64 [n], unit mean power."""
    spec = np.fft.rfft(rng.standard_normal(n))
    spec[1:] /= np.sqrt(np.arange(1, spec.size))
    spec[0] = 0.0
    x = np.fft.irfft(spec, n)
    return x / np.sqrt(np.mean(x ** 2))


def speak_script(script, folder: Path, *, seed: int = 0, voices: dict[str, tuple[str, ...]] | None = None,
                 room: Room | None = None) -> Spoken:
    """`script` spoken line by line into `folder` by `voices` (speaker -> espeak-ng arguments,
    default VOICES), mixed with 0.35-0.8 s gaps and -65 dBFS noise; with `room`, through its
    impulse responses and noise (the truth segments stay the dry lines' spans)."""
    voices = VOICES if voices is None else voices
    rng = np.random.default_rng(seed)
    rirs = {sp: room.impulse(k, np.random.default_rng(seed * 7 + k)) for k, sp in enumerate(voices)} if room else {}
    pieces, segments, t = [], [], 0.5
    truth: dict[str, dict[str, int]] = {sp: {c: 0 for c in COUNTED.values()} for sp in voices}
    for k, (speaker, text, cues) in enumerate(script):
        x = _say(text, voices[speaker], folder, k)
        pieces.append((t, x))
        segments.append(Segment(t, t + x.size / RATE, speaker))
        for c in cues:
            if c in COUNTED:
                truth[speaker][COUNTED[c]] += 1
        t += x.size / RATE + rng.uniform(0.35, 0.8)
    audio = (rng.standard_normal(int((t + 0.5) * RATE)) * 10 ** (-65 / 20)).astype(np.float32)
    if room is None:
        for start, x in pieces:
            i = round(start * RATE)
            audio[i:i + x.size] += 0.5 * x / np.abs(x).max()
    else:
        wet = np.zeros(audio.size + max(h.size for h in rirs.values()))
        for (start, x), seg in zip(pieces, segments):
            i = round(start * RATE)
            x = np.convolve(0.5 * x / np.abs(x).max(), rirs[seg.speaker])
            wet[i:i + x.size] += x
        wet = wet[:audio.size]
        speech = np.concatenate([wet[round(s.start * RATE):round(s.end * RATE)] for s in segments])
        wet += _pink(wet.size, rng) * np.sqrt(np.mean(speech ** 2) * 10 ** (-room.snr_db / 10))
        audio += (wet * min(1.0, 0.5 / np.abs(wet).max())).astype(np.float32)  # peak at -6 dBFS at most, as without
    segments = [Segment(round(s.start * RATE) / RATE, round(s.start * RATE) / RATE + (s.end - s.start), s.speaker)
                for s in segments]
    return Spoken(audio, tuple(segments), truth)
