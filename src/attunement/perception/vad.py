"""Voice activity: webrtcvad on the speech band, gated by level, smoothed, then extended through
audible frames only.

Per channel and per frame (10, 20 or 30 ms, no overlap):
1. a 2nd-order high-pass at `highpass_hz` keeps the speech band and drops breath, rumble and
   handling noise, which close-talk microphones pick up loudly below a few hundred Hz;
2. webrtcvad (mode `aggressiveness`) judges the filtered frame;
3. a causal level gate keeps a voiced frame only if its speech-band level is `min_snr_db` above
   the tracked noise floor and within `range_db` of the tracked active speech level: quiet
   background sound that webrtcvad alone takes for speech fails the second test;
4. a frame is *audible* when its full-band level stands `audible_db` above the background, or
   `voiced_audible_db` above it while webrtcvad (mode `audible_mode`, unfiltered frame) hears voice;
5. at `finish`, pauses shorter than `min_pause_s` are filled, speech shorter than `min_speech_s`
   dropped, and each stretch extended outward through audible frames only, by at most
   `extend_before_s` before and `extend_after_s` after: weak consonants, breathy onsets and
   decaying tails are speech, silence is not, so gaps between speakers keep their length.
   Pauses of up to `sounding_pause_s` that are mostly sound (`sounding_share` of their frames
   audible or voiced) are filled too: speech buried in noise, a murmur the speech band misses.

The detector is streaming: feed blocks of any length; it keeps at most one partial frame of
audio per channel and the small per-frame results. Values and their sources are in
calibration/defaults.toml (re-derived by calibration/tune_vad.py).
"""

from __future__ import annotations

import logging

import numpy as np
import webrtcvad

from ..config import VadConfig
from ..errors import InputError
from ..records import AudioBlock, VadFrames, VoiceActivity
from .vad_kernels import (
    audible_frames,
    frame_energy_db,
    highpass,
    highpass_coefficients,
    level_gate,
    smooth_speech,
    speech_segments,
)

__all__ = ["VoiceActivityDetector", "FrameAnalyzer", "detect_speech", "smooth_activity", "speech_segments"]

log = logging.getLogger(__name__)

#: Sample rates webrtcvad accepts, Hz.
RATES = (8000, 16000, 32000, 48000)

#: detect_speech feeds a long recording in blocks of this many seconds: small enough to stay
#: in cache (one pass over an hour at once is about 3x slower), large enough to amortise calls.
CHUNK_S = 2


class FrameAnalyzer:
    """One channel's per-frame measurements, streaming: raw level, speech-band level, webrtcvad's calls.

    `feed(x)` takes float32 samples [n] in [-1, 1] and returns (level_db float32, band_db float32,
    voiced bool, raw_voiced bool), each [frames completed by x]: voiced is webrtcvad (mode
    `aggressiveness`) on the speech band, raw_voiced webrtcvad (mode `audible_mode`) on the
    unfiltered frame. Keeps at most one partial frame of samples.
    """

    def __init__(self, *, rate: int, frame_ms: int, highpass_hz: float, aggressiveness: int,
                 audible_mode: int = 0):
        self.rate = rate
        self.frame_len = rate * frame_ms // 1000
        self._coef = highpass_coefficients(highpass_hz, rate)
        self._filter_state = np.zeros(2)
        self._vad = webrtcvad.Vad(aggressiveness)
        self._raw_vad = webrtcvad.Vad(audible_mode)
        self._raw_tail = np.zeros(0, dtype=np.float32)   # the partial frame, as given
        self._band_tail = np.zeros(0, dtype=np.float32)  # the same samples, filtered

    def feed(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(level_db, band_db, voiced, raw_voiced) of the frames completed by float32 samples x [n]."""
        band = highpass(x, self._coef, self._filter_state)
        raw = np.concatenate((self._raw_tail, x)) if self._raw_tail.size else x
        band = np.concatenate((self._band_tail, band)) if self._band_tail.size else band
        whole = raw.shape[0] // self.frame_len * self.frame_len
        self._raw_tail = np.array(raw[whole:], dtype=np.float32)
        self._band_tail = band[whole:].copy()
        level_db = frame_energy_db(raw[:whole], self.frame_len)
        band_db = frame_energy_db(band[:whole], self.frame_len)
        voiced, raw_voiced = self._voiced(self._vad, band[:whole]), self._voiced(self._raw_vad, raw[:whole])
        return level_db, band_db, voiced, raw_voiced

    def _voiced(self, vad: webrtcvad.Vad, x: np.ndarray) -> np.ndarray:
        """`vad`'s decision per whole frame of `x`, bool [frames]: one call per frame."""
        pcm = np.clip(x * 32768.0, -32768.0, 32767.0).astype("<i2").tobytes()
        step = 2 * self.frame_len
        is_speech, rate = vad.is_speech, self.rate
        return np.array([is_speech(pcm[i:i + step], rate) for i in range(0, len(pcm), step)], dtype=np.bool_)

    @property
    def pending(self) -> int:
        """Samples held back until their frame is complete (always < frame_len)."""
        return self._raw_tail.shape[0]


#: Per-feed results are joined into one array once this many pile up: a live microphone feeds 50
#: blocks a second, and an hour of tiny arrays would cost far more memory than the frames they hold.
JOIN_PARTS = 256


class VoiceActivityDetector:
    """Streaming voice activity of each channel on its own; `feed` blocks, then `finish` once.

    Frame k of the result covers [t0 + k*hop_s, t0 + (k+1)*hop_s), hop_s = frame_ms / 1000,
    t0 = the first block's t0. A trailing partial frame is dropped.

    `fill_pauses` (default: only for one channel) fills pauses: those shorter than min_pause_s,
    and those up to sounding_pause_s that are mostly sound. Several channels are one microphone
    per person, each also hearing the others (cross-talk): a pause between the wearer's speech
    and a neighbour's cross-talk is a gap between two people, and filling it would move the floor
    transfer. So there each channel keeps its acoustic boundaries, and pauses are filled once
    cross-talk is removed (conversation/speakers.py).
    """

    def __init__(self, *, config: VadConfig, channels: int = 1, rate: int = 16000,
                 fill_pauses: bool | None = None):
        if rate not in RATES:
            raise InputError(f"voice activity needs audio at {', '.join(map(str, RATES))} Hz, got {rate} Hz")
        if channels < 1:
            raise InputError(f"voice activity needs at least one channel, got {channels}")
        self.config = config
        self.channels = channels
        self.rate = rate
        self.hop_s = config.frame_ms / 1000.0
        self.fill_pauses = channels == 1 if fill_pauses is None else bool(fill_pauses)
        self._analyzers = [FrameAnalyzer(rate=rate, frame_ms=config.frame_ms, highpass_hz=config.highpass_hz,
                                         aggressiveness=config.aggressiveness, audible_mode=config.audible_mode)
                           for _ in range(channels)]
        self._gate_states = [np.full(2, np.nan) for _ in range(channels)]
        self._background = [np.full(1, np.nan) for _ in range(channels)]
        self._speech: list[list[np.ndarray]] = [[] for _ in range(channels)]
        self._audible: list[list[np.ndarray]] = [[] for _ in range(channels)]
        self._raw_voiced: list[list[np.ndarray]] = [[] for _ in range(channels)]
        self._level: list[list[np.ndarray]] = [[] for _ in range(channels)]
        self._t0: float | None = None
        self._samples_seen = 0
        self._frames = 0
        self._finished = False

    def feed(self, block: AudioBlock) -> VadFrames:
        """Take the next block: float32 samples [channels, n] at `rate`, contiguous with the last.

        Returns the frames this block completed, before smoothing (what a live session stores)."""
        self._check(block)
        if self._t0 is None:
            self._t0 = float(block.t0)
        first = self._frames
        self._samples_seen += block.samples.shape[-1]
        cfg = self.config
        new = []
        for ch, analyzer in enumerate(self._analyzers):
            level_db, band_db, voiced, raw_voiced = analyzer.feed(
                np.ascontiguousarray(block.samples[ch], dtype=np.float32))
            speech = level_gate(band_db, voiced, self._gate_states[ch], hop_s=self.hop_s,
                                min_snr_db=cfg.min_snr_db, range_db=cfg.range_db,
                                floor_rise_db_per_s=cfg.floor_rise_db_per_s, level_tau_s=cfg.level_tau_s)
            audible = audible_frames(level_db, raw_voiced, self._background[ch], hop_s=self.hop_s,
                                     floor_rise_db_per_s=cfg.floor_rise_db_per_s, audible_db=cfg.audible_db,
                                     voiced_audible_db=cfg.voiced_audible_db)
            for parts, x in ((self._speech, speech), (self._audible, audible),
                             (self._raw_voiced, raw_voiced), (self._level, level_db)):
                if len(parts[ch]) >= JOIN_PARTS:  # the older parts as one array (the newest stays last)
                    parts[ch][:] = [np.concatenate(parts[ch])]
                parts[ch].append(x)
            new.append((speech, audible, raw_voiced, level_db))
        self._frames += new[0][0].shape[0]
        gated, audible, voiced, level = (np.stack(c) for c in zip(*new))
        return VadFrames(gated=gated.astype(bool, copy=False), audible=audible.astype(bool, copy=False),
                         voiced=voiced.astype(bool, copy=False), level_db=level.astype(np.float32, copy=False),
                         hop_s=self.hop_s, t0=self._t0 + first * self.hop_s)

    def finish(self) -> VoiceActivity:
        """Smoothed, extended speech bool [channels, frames] and raw frame level_db float32 [channels, frames]."""
        if self._finished:
            raise RuntimeError("VoiceActivityDetector.finish() was already called")
        self._finished = True
        frames = VadFrames(gated=np.stack([_joined(p, np.bool_) for p in self._speech]),
                           audible=np.stack([_joined(p, np.bool_) for p in self._audible]),
                           voiced=np.stack([_joined(p, np.bool_) for p in self._raw_voiced]),
                           level_db=np.stack([_joined(p, np.float32) for p in self._level]),
                           hop_s=self.hop_s, t0=self._t0 or 0.0)
        activity = smooth_activity(frames, config=self.config, fill_pauses=self.fill_pauses)
        speech = activity.speech
        log.debug("voice activity: %d channel(s), %d frames of %.0f ms, speech share %.2f", self.channels,
                  speech.shape[1], 1000 * self.hop_s, float(speech.mean()) if speech.size else 0.0)
        return activity

    def _check(self, block: AudioBlock) -> None:
        if self._finished:
            raise RuntimeError("VoiceActivityDetector.feed() after finish()")
        samples = block.samples
        if samples.ndim != 2 or samples.shape[0] != self.channels:
            raise InputError(f"audio block of shape {samples.shape} at t0={block.t0:.3f} s; "
                             f"expected [{self.channels}, n] (channels, samples)")
        if block.rate != self.rate:
            raise InputError(f"audio block at t0={block.t0:.3f} s is {block.rate} Hz; "
                             f"this detector takes {self.rate} Hz")
        if self._t0 is not None:
            expected = self._t0 + self._samples_seen / self.rate
            if abs(block.t0 - expected) > self.hop_s / 2:
                raise InputError(f"audio block starts at t0={block.t0:.3f} s, expected {expected:.3f} s: "
                                 "blocks must be contiguous in time")
        if samples.size and not np.isfinite(samples).all():
            raise InputError(f"audio block at t0={block.t0:.3f} s holds NaN or infinite samples")


def smooth_activity(frames: VadFrames, *, config: VadConfig, fill_pauses: bool) -> VoiceActivity:
    """VoiceActivity from the detector's per-frame calls: each channel's gated frames smoothed and
    extended through audible ones (vad_kernels.smooth_speech; "sounding" = audible or voiced).
    The one smoothing of a finished review and of a live session rebuilt from its store."""
    speech = np.stack([smooth_speech(np.ascontiguousarray(frames.gated[ch]), np.ascontiguousarray(frames.audible[ch]),
                                     frames.audible[ch] | frames.voiced[ch], hop_s=frames.hop_s, config=config,
                                     fill_pauses=fill_pauses) for ch in range(frames.gated.shape[0])])
    return VoiceActivity(speech=speech.astype(bool, copy=False), level_db=np.ascontiguousarray(frames.level_db),
                         hop_s=frames.hop_s, t0=frames.t0)


def detect_speech(samples: np.ndarray, rate: int, *, config: VadConfig,
                  fill_pauses: bool | None = None) -> VoiceActivity:
    """Voice activity of a whole recording at once: samples float32 [channels, n] or [n], t0 = 0.

    `fill_pauses` as for VoiceActivityDetector (default: only for one channel)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[None, :]
    if samples.ndim != 2:
        raise InputError(f"samples must be [n] or [channels, n], got shape {samples.shape}")
    detector = VoiceActivityDetector(config=config, channels=samples.shape[0], rate=rate, fill_pauses=fill_pauses)
    step = CHUNK_S * rate
    for start in range(0, samples.shape[1], step):
        detector.feed(AudioBlock(samples[:, start:start + step], start / rate, rate))
    return detector.finish()


def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)
