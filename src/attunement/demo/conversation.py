"""A two-person practice conversation with exactly known timing: the demo and end-to-end truth.

Two synthetic voices (a glottal pulse train through formant resonators, syllable by syllable)
are laid out by a *script* whose lines say how each utterance relates to the floor holder's
speech (a gap, a pause, a smooth overlap, an interruption, a backchannel). The expected events
are written from the script itself, never computed by analysis code, and the layout refuses
scripts whose geometry would not produce the events they declare under the turn rules of
`calibration/defaults.toml` (`[turns]`), with a safety margin of several VAD frames.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._numba import kernel
from ..config import TurnConfig, provenance
from ..errors import InputError
from ..records import Segment

log = logging.getLogger(__name__)

KINDS = ("start", "gap", "pause", "smooth", "interrupt", "backchannel")
#: Each scripted event stays this far (s) from every threshold and boundary of the turn rules,
#: so that detection errors of a few 30 ms frames cannot change its class.
MARGIN_S = 0.15
#: Shortest pause (s) inside one speaker's speech: well above the 0.25 s bridging threshold.
MIN_PAUSE_S = 0.35


@dataclass(frozen=True)
class Line:
    """One utterance of a script; `speaker` indexes the conversation's speakers.

    `offset_s` by kind: "start" the onset time; "gap" (another speaker takes the floor) and
    "pause" (the holder goes on) the silence after the holder's last speech; "smooth" and
    "interrupt" how long the new speaker overlaps the end of the holder's last speech;
    "backchannel" the onset after the start of the holder's last speech. `duration_s` is the
    utterance's length (assembled scripts take the length of a real stretch instead).
    """

    speaker: int
    kind: str
    offset_s: float
    duration_s: float = 0.0


@dataclass(frozen=True)
class SyntheticConversation:
    """A conversation and its truth; times in seconds from the first sample.

    `audio` float32 [shape=(channels, n)] at `rate` Hz: 1 channel = one shared microphone
    (the sum), 2 channels = one microphone per speaker with the other voice leaking in
    `leak_db` lower. `segments` are the speech segments, exact to the sample, sorted.
    `expected` holds the events written from the script (see `expected_from_script`).
    """

    audio: np.ndarray
    rate: int
    segments: tuple[Segment, ...]
    speakers: tuple[str, ...]
    expected: dict


#: The demo: gaps of 0.15 / 0.3 / 0.4 / 0.6 / 0.9 / 1.6 s, pauses of 0.7 and 0.9 s, one
#: backchannel, one smooth overlap (0.25 s), one interruption (0.8 s held on, 2.0 s after).
PRACTICE_SCRIPT: tuple[Line, ...] = (
    Line(0, "start", 0.5, 2.4),        # alex  0.50 - 2.90
    Line(1, "gap", 0.4, 2.2),          # sam   3.30 - 5.50
    Line(0, "gap", 0.15, 2.8),         # alex  5.65 - 8.45
    Line(1, "backchannel", 1.1, 0.5),  # sam   6.75 - 7.25  "mm-hm"
    Line(0, "pause", 0.7, 2.0),        # alex  9.15 - 11.15
    Line(1, "gap", 0.9, 2.8),          # sam  12.05 - 14.85
    Line(0, "smooth", 0.25, 2.8),      # alex 14.60 - 17.40
    Line(1, "interrupt", 0.8, 2.8),    # sam  16.60 - 19.40
    Line(0, "gap", 1.6, 2.4),          # alex 21.00 - 23.40
    Line(1, "gap", 0.6, 2.2),          # sam  24.00 - 26.20
    Line(1, "pause", 0.9, 1.8),        # sam  27.10 - 28.90
    Line(0, "gap", 0.3, 2.4),          # alex 29.20 - 31.60
)
PRACTICE_SPEAKERS = ("alex", "sam")
PRACTICE_F0_HZ = (120.0, 210.0)
_TAIL_S = 0.6          # background after the last word
_SPEECH_RMS_DBFS = -24.5  # each voice, RMS over an utterance
_NOISE_BELOW_SPEECH_DB = 47.0
_BACKCHANNEL_QUIETER_DB = 3.0


def practice_conversation(*, seed: int = 0, rate: int = 16000, channels: int = 1,
                          leak_db: float = 15.0) -> SyntheticConversation:
    """The demo conversation of `PRACTICE_SCRIPT` (about 32 s); `seed` varies the voices, not the timing."""
    return render_script(PRACTICE_SCRIPT, seed=seed, rate=rate, channels=channels, leak_db=leak_db)


def render_script(script: Sequence[Line], *, speakers: Sequence[str] = PRACTICE_SPEAKERS,
                  f0_hz: Sequence[float] = PRACTICE_F0_HZ, seed: int = 0, rate: int = 16000,
                  channels: int = 1, leak_db: float = 15.0) -> SyntheticConversation:
    """Speak `script` with synthetic voices (speaker k at `f0_hz[k]`) over a quiet pink background."""
    if len(f0_hz) != len(speakers) or max(line.speaker for line in script) >= len(speakers):
        raise InputError(f"the script needs a name and an f0 for each of its speakers; "
                         f"got {list(speakers)} and {list(f0_hz)}")
    check_mix_args(rate, channels, leak_db, n_speakers=len(speakers))
    rng = np.random.default_rng(seed)
    spans = layout(script, [round(line.duration_s * rate) for line in script], rate=rate)
    n = max(b for _, b in spans) + round(_TAIL_S * rate)
    voices = np.zeros((len(speakers), n), dtype=np.float64)
    for line, (a, b) in zip(script, spans):
        utterance = synth_voice((b - a) / rate, f0_hz=f0_hz[line.speaker], rate=rate, rng=rng,
                                murmur=line.kind == "backchannel")
        level_db = _SPEECH_RMS_DBFS - (_BACKCHANNEL_QUIETER_DB if line.kind == "backchannel" else 0.0)
        voices[line.speaker, a:b] = 10 ** (level_db / 20) / _rms(utterance) * utterance[: b - a]
    noise_rms = 10 ** ((_SPEECH_RMS_DBFS - _NOISE_BELOW_SPEECH_DB) / 20)
    audio = mix(voices, channels=channels, leak_db=leak_db, noise_rms=noise_rms, rate=rate, rng=rng)
    segments = tuple(sorted(Segment(a / rate, b / rate, speakers[line.speaker])
                            for line, (a, b) in zip(script, spans)))
    expected = expected_from_script(script, spans, tuple(speakers), rate=rate)
    return SyntheticConversation(audio, rate, segments, tuple(speakers), expected)


def layout(lines: Sequence[Line], lengths: Sequence[int], *, rate: int,
           rules: TurnConfig | None = None) -> list[tuple[int, int]]:
    """Place each line: [start, end) in samples, given each line's length in samples.

    Raises InputError when a line would not produce the event its kind declares (with
    `MARGIN_S` to spare) or a speaker's own speech would overlap or pause under `MIN_PAUSE_S`.
    """
    rules = rules or default_turn_rules()
    if not lines or lines[0].kind != "start":
        raise InputError("a script must begin with a 'start' line")
    spans: list[tuple[int, int]] = []
    holder = last = -1   # the floor holder's speaker and the index of its last (non-backchannel) line
    for i, (line, length) in enumerate(zip(lines, lengths, strict=True)):
        if line.kind not in KINDS:
            raise InputError(f"script line {i}: unknown kind {line.kind!r}; known: {', '.join(KINDS)}")
        if i and line.kind == "start":
            raise InputError(f"script line {i}: only the first line may be 'start'")
        off = round(line.offset_s * rate)
        if line.kind == "start":
            start = off
        else:
            h_start, h_end = spans[last]
            _check_line(i, line, holder, length / rate, (h_end - h_start) / rate, rules)
            start = {"gap": h_end + off, "pause": h_end + off, "smooth": h_end - off,
                     "interrupt": h_end - off, "backchannel": h_start + off}[line.kind]
        if start < 0 or length <= 0:
            raise InputError(f"script line {i}: utterance at sample {start} of length {length} is not placeable")
        spans.append((start, start + length))
        if line.kind != "backchannel":
            holder, last = line.speaker, i
    _check_own_pauses(lines, spans, rate)
    return spans


def default_turn_rules() -> TurnConfig:
    """The `[turns]` defaults of calibration/defaults.toml (read alone: other sections don't matter here)."""
    return TurnConfig(**{key: entry["value"] for key, entry in provenance()["turns"].items()})


def _check_line(i: int, line: Line, holder: int, dur: float, h_dur: float, rules: TurnConfig) -> None:
    """Raise InputError if line `i` (of `dur` s) would not be the event its kind declares."""
    off, m = line.offset_s, MARGIN_S
    same = line.speaker == holder
    problems = {
        "pause": [(not same, "a pause must be by the floor holder"), (off < MIN_PAUSE_S, f"pause < {MIN_PAUSE_S} s")],
        "gap": [(same, "a gap is by someone other than the holder"), (off < 0, "negative gap")],
        "smooth": [(same, "an overlap is by someone other than the holder"),
                   (not 0 < off <= rules.interruption_min_holdover_s - m, "smooth overlap out of range"),
                   (off > h_dur - m, "starts too close to the holder's onset"),
                   (dur < off + m, "ends inside the holder's speech")],
        "interrupt": [(same, "an interruption is by someone other than the holder"),
                      (off < rules.interruption_min_holdover_s + m, "holder goes on too briefly"),
                      (off > h_dur - m, "starts too close to the holder's onset"),
                      (dur - off < rules.interruption_min_continue_s + m, "interrupter stops too soon")],
        "backchannel": [(same, "a backchannel is by someone other than the holder"),
                        (dur > rules.backchannel_max_s - m, "too long for a backchannel"),
                        (off < m or off + dur > h_dur - m, "not well inside the holder's speech")],
    }[line.kind]
    for bad, why in problems:
        if bad:
            raise InputError(f"script line {i} ({line.kind} by speaker {line.speaker}, offset {off} s, "
                             f"{dur:.3f} s long): {why}")


def _check_own_pauses(lines: Sequence[Line], spans: Sequence[tuple[int, int]], rate: int) -> None:
    for who in {line.speaker for line in lines}:
        own = sorted(s for line, s in zip(lines, spans) if line.speaker == who)
        for (_, end), (start, _) in zip(own, own[1:]):
            if start - end < MIN_PAUSE_S * rate:
                raise InputError(f"speaker {who} pauses only {(start - end) / rate:.3f} s at {end / rate:.3f} s "
                                 f"(needs >= {MIN_PAUSE_S} s between own utterances)")


def expected_from_script(lines: Sequence[Line], spans: Sequence[tuple[int, int]],
                         speakers: Sequence[str], *, rate: int) -> dict:
    """The events each line declares, timed by `spans` (samples): interruptions, backchannels,
    floor-transfer offsets (s, negative for overlaps), turns (speaker, start, end) and talk times."""
    out: dict = {"interruptions": [], "backchannels": [], "attempted_interruptions": [],
                 "floor_transfer_offsets_s": [], "turns": []}
    talk = dict.fromkeys(speakers, 0.0)
    holder, h_end = "", 0
    for line, (a, b) in zip(lines, spans):
        who = speakers[line.speaker]
        talk[who] += (b - a) / rate
        if line.kind == "backchannel":
            out["backchannels"].append({"t": a / rate, "by": who, "during": holder})
            continue
        if line.kind == "pause":
            out["turns"][-1] = (who, out["turns"][-1][1], b / rate)
        else:
            if line.kind != "start":
                out["floor_transfer_offsets_s"].append((a - h_end) / rate)
            if line.kind == "interrupt":
                out["interruptions"].append({"t": a / rate, "by": who, "of": holder, "overlap_s": (h_end - a) / rate})
            out["turns"].append((who, a / rate, b / rate))
        holder, h_end = who, b
    total = sum(talk.values())
    out["talk_time_s"] = talk
    out["talk_share"] = {k: v / total if total else 0.0 for k, v in talk.items()}
    return out


def mix(voices: np.ndarray, *, channels: int, leak_db: float, noise_rms: float, rate: int,
        rng: np.random.Generator) -> np.ndarray:
    """float32 [channels, n] from per-speaker voices float [speakers, n] plus pink background noise.

    channels=1 is one shared microphone (the sum); channels=speakers gives each speaker a
    microphone that hears the others `leak_db` lower; each microphone has its own noise.
    """
    if channels == 1:
        out = voices.sum(axis=0, keepdims=True)
    else:
        leak = 10 ** (-leak_db / 20)
        out = leak * voices.sum(axis=0, keepdims=True) + (1 - leak) * voices
    out = out + noise_rms * pink_noise(out.shape, rate=rate, rng=rng)
    peak = float(np.max(np.abs(out), initial=0.0))
    if peak > 0.99:
        log.warning("mix peaks at %.2f; scaled down to avoid clipping", peak)
        out *= 0.99 / peak
    return out.astype(np.float32)


def pink_noise(shape: tuple[int, int], *, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise float64 [shape] with a 1/f power spectrum (-3 dB per octave), flat below 20 Hz."""
    n = shape[-1]
    if n == 0:
        return np.zeros(shape)
    spec = np.fft.rfft(rng.standard_normal(shape), axis=-1)
    spec /= np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / rate), 20.0))
    x = np.fft.irfft(spec, n=n, axis=-1)
    return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + 1e-30)


def check_mix_args(rate: int, channels: int, leak_db: float, *, n_speakers: int) -> None:
    if rate < 8000:
        raise InputError(f"sample rate {rate} Hz is too low for speech (needs >= 8000)")
    if channels not in (1, n_speakers):
        raise InputError(f"channels={channels}: use 1 (a shared mic) or {n_speakers} (one mic per speaker)")
    if not leak_db >= 0:
        raise InputError(f"leak_db={leak_db}: the other voice's leak must be >= 0 dB lower")


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) or 1.0


# ---- the voice ---------------------------------------------------------------------------

#: Vowel formants F1-F3 (Hz) of an adult male voice, after Peterson & Barney (1952), rounded:
#: /a i u e o ae er ^/. Higher voices scale them up (a shorter vocal tract).
_VOWELS = np.array([[730, 1090, 2440], [270, 2290, 3010], [300, 870, 2240], [530, 1840, 2480],
                    [570, 840, 2410], [660, 1720, 2410], [490, 1350, 1690], [640, 1190, 2390]], dtype=float)
#: Nasal murmurs for "mm-hm": a low first resonance and weak upper ones.
_NASALS = np.array([[250, 1100, 2300], [300, 1300, 2500]], dtype=float)
_BANDWIDTHS_HZ = np.array([80.0, 110.0, 170.0])
_F4_HZ, _F4_BW_HZ = 3500.0, 250.0
_ENVELOPE_FLOOR = 0.3   # syllable dips stay within -10.5 dB of the syllable's peak: never silent
_RAMP_S = 0.008         # onset/offset ramps


def synth_voice(duration_s: float, *, f0_hz: float, rate: int, rng: np.random.Generator,
                murmur: bool = False) -> np.ndarray:
    """One utterance, float64 [round(duration_s * rate)] at unit RMS, continuous from first to last sample.

    Syllables of 150-250 ms each carry a vowel (or, with `murmur`, the two nasal halves of
    an "mm-hm"), a pitch accent and a loudness peak; f0 declines by about 10 % over the
    utterance with about 1 % jitter. The glottal source (Rosenberg pulses, differentiated for
    lip radiation, plus a little aspiration) runs through a cascade of four formant resonators.
    """
    n = round(duration_s * rate)
    if n <= 0:
        raise InputError(f"utterance duration {duration_s} s is not positive")
    if not 50.0 <= f0_hz <= 500.0:
        raise InputError(f"f0 {f0_hz} Hz is outside the range of voices (50-500 Hz)")
    bounds = _syllable_bounds(n, rate, rng, halves=murmur)
    syl = np.searchsorted(bounds[1:], np.arange(n), side="right")
    pos = (np.arange(n) - bounds[syl]) / (bounds[syl + 1] - bounds[syl])
    n_syl = len(bounds) - 1

    stress = rng.uniform(0.65, 1.0, n_syl)
    envelope = _smooth(stress[syl] * (_ENVELOPE_FLOOR + (1 - _ENVELOPE_FLOOR) * np.sin(np.pi * pos) ** 2),
                       round(0.01 * rate))
    accents = np.array([-0.04, 0.08]) if murmur else np.clip(rng.normal(0.0, 0.04, n_syl), -0.08, 0.08)
    declination = 0.05 - 0.1 * np.arange(n) / n
    jitter = _smooth(rng.standard_normal(n), max(1, round(rate / f0_hz)))
    jitter *= 0.01 / (jitter.std() or 1.0)
    f0 = f0_hz * (1 + declination + _smooth(accents[syl], round(0.08 * rate)) + jitter)

    phase = (rng.uniform() + np.cumsum(f0) / rate) % 1.0
    flow = _rosenberg(phase)
    source = np.diff(flow, prepend=flow[0])
    source /= source.std() or 1.0
    source += 0.08 * flow * rng.standard_normal(n)   # breath noise, pulsed with the glottal flow

    table = _NASALS if murmur else _VOWELS
    vowels = np.arange(n_syl) % 2 if murmur else rng.integers(0, len(table), n_syl)
    scale = (f0_hz / 120.0) ** 0.3
    nyquist_cap = 0.45 * rate
    y = source * envelope
    for k in range(3):
        freq = np.minimum(_smooth(table[vowels, k][syl] * scale, round(0.04 * rate)), nyquist_cap)
        y = resonate(y, freq_hz=freq, bandwidth_hz=_BANDWIDTHS_HZ[k] * scale, rate=rate)
    y = resonate(y, freq_hz=min(_F4_HZ * scale, nyquist_cap), bandwidth_hz=_F4_BW_HZ, rate=rate)
    y *= ramps(n, round(_RAMP_S * rate))
    return y / _rms(y)


def resonate(x: np.ndarray, *, freq_hz, bandwidth_hz, rate: int) -> np.ndarray:
    """`x` float [n] through a two-pole resonator (Klatt 1980), unity gain at 0 Hz.

    `freq_hz` and `bandwidth_hz` are scalars or float [n], one value per sample (a moving formant).
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"resonate takes one channel [n], got shape {x.shape}")
    freq = np.ascontiguousarray(np.broadcast_to(np.asarray(freq_hz, dtype=np.float64), x.shape))
    bw = np.ascontiguousarray(np.broadcast_to(np.asarray(bandwidth_hz, dtype=np.float64), x.shape))
    if x.size and not (np.all((freq > 0) & (freq < rate / 2)) and np.all(bw > 0)):
        raise InputError(f"resonator frequencies must lie in (0, {rate / 2}) Hz and bandwidths be > 0")
    r = np.exp(-np.pi * bw / rate)
    b = 2 * r * np.cos(2 * np.pi * freq / rate)
    c = -r * r
    out = np.empty_like(x)
    _resonate(x, 1.0 - b - c, b, c, out)
    return out


@kernel
def _resonate(x, a, b, c, out):
    """out[n] = a[n] x[n] + b[n] out[n-1] + c[n] out[n-2], from rest."""
    y1 = 0.0
    y2 = 0.0
    for i in range(x.shape[0]):
        y = a[i] * x[i] + b[i] * y1 + c[i] * y2
        out[i] = y
        y2 = y1
        y1 = y


def _syllable_bounds(n: int, rate: int, rng: np.random.Generator, *, halves: bool) -> np.ndarray:
    """Sample indices [0, ..., n] cutting n samples into syllables of 150-250 ms (or two halves)."""
    if halves:
        return np.array([0, n // 2, n])
    lengths = rng.uniform(0.15, 0.25, int(n / (0.15 * rate)) + 2) * rate
    edges = np.concatenate(([0.0], np.cumsum(lengths)))
    edges = edges[edges < n - 0.1 * rate].round().astype(int)   # no syllable shorter than 100 ms at the end
    return np.append(edges, n) if len(edges) else np.array([0, n])


def _rosenberg(phase: np.ndarray, *, rise: float = 0.4, fall: float = 0.16) -> np.ndarray:
    """Glottal flow over one period (phase in [0, 1)): a raised-cosine opening, a faster closure."""
    opening = 0.5 * (1 - np.cos(np.pi * phase / rise))
    closing = np.cos(0.5 * np.pi * (phase - rise) / fall)
    return np.where(phase < rise, opening, np.where(phase < rise + fall, closing, 0.0))


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over `width` samples (edges averaged over what exists)."""
    if width <= 1 or x.size == 0:
        return x.astype(np.float64)
    c = np.concatenate(([0.0], np.cumsum(x, dtype=np.float64)))
    i = np.arange(x.size)
    lo, hi = np.maximum(i - width // 2, 0), np.minimum(i + (width + 1) // 2, x.size)
    return (c[hi] - c[lo]) / (hi - lo)


def ramps(n: int, width: int) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of `width` samples each (gain [n])."""
    gain = np.ones(n)
    width = min(width, n // 2)
    if width > 0:
        fade = 0.5 * (1 - np.cos(np.pi * (np.arange(width) + 0.5) / width))
        gain[:width] *= fade
        gain[n - width:] *= fade[::-1]
    return gain
