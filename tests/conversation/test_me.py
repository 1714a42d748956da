"""Which voice is on camera: kernels against references, naming, and real talking-head clips with a second voice."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.config import default_config
from attunement.conversation.diarize import Diarizer
from attunement.conversation.me import (find_me, label_me, mouth_activity, relabel_with_mouth,
                                        speaker_mouth_scores)
from attunement.errors import InputError
from attunement.perception.vad import detect_speech
from attunement.records import AudioBlock, Segment as S
from tests import naive


def test_mouth_activity_matches_reference_with_nan_frames(rng):
    t = np.cumsum(rng.uniform(0.02, 0.05, 300))
    x = rng.random(300).astype(np.float32)
    x[rng.random(300) < 0.2] = np.nan            # frames with no face
    x[100:140] = np.nan                          # the face lost for a while
    np.testing.assert_allclose(mouth_activity(t, x, window_s=0.4), naive.mouth_activity(t, x, 0.4), rtol=1e-4, atol=1e-5,
                               equal_nan=True)
    np.testing.assert_allclose(mouth_activity(t, np.full(300, 0.3, np.float32)), 0.0, atol=1e-6)
    with pytest.raises(InputError, match="increasing"):
        mouth_activity(t[::-1], x)


def test_synthetic_mouth_picks_the_speaker_whose_speech_moves_it(rng):
    t = np.arange(0, 20, 0.04)
    # the person on camera ("b") speaks 0-8 s and 14-20 s: mouth moving at 5 Hz; listens 8-14 s: still
    talking = (t < 8) | (t >= 14)
    x = np.where(talking, 0.3 + 0.2 * np.sin(2 * np.pi * 5 * t), 0.05) + 0.01 * rng.standard_normal(t.size)
    x = x.astype(np.float32)
    x[rng.random(t.size) < 0.1] = np.nan
    segs = [S(0, 8, "b"), S(8.2, 13.8, "a"), S(14, 20, "b")]
    scores = speaker_mouth_scores(segs, t, x)
    assert scores["b"] > 0 > scores["a"]
    assert find_me(segs, t, x) == "b"
    assert [s.speaker for s in relabel_with_mouth(segs, t, x)] == ["me", "partner", "me"]
    assert find_me(segs, t, np.full(t.size, np.nan, np.float32)) is None


def test_label_me_by_hand():
    segs = [S(0, 1, "speaker1"), S(1, 2, "speaker3"), S(2, 3, "speaker2"), S(3, 4, "speaker1")]
    assert [s.speaker for s in label_me(segs, "speaker3")] == ["partner-1", "me", "partner-2", "partner-1"]
    assert [s.speaker for s in label_me(segs[:2], "speaker1")] == ["me", "partner"]
    with pytest.raises(InputError, match="--me speaker9"):
        label_me(segs, "speaker9")


# ------------------------------------------------------------------ real clips

def mouth_track(path):
    """(t float64 [n], opening float32 [n]): inner-lip gap (13-14) over the eye-corner distance (33-263), FaceMesh."""
    av = pytest.importorskip("av")
    import mediapipe as mp

    times, opening = [], []
    with av.open(str(path)) as container, mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, max_num_faces=1, refine_landmarks=True) as mesh:
        for frame in container.decode(video=0):
            result = mesh.process(frame.to_ndarray(format="rgb24"))
            times.append(float(frame.time))
            if not result.multi_face_landmarks:
                opening.append(np.nan)
                continue
            p = result.multi_face_landmarks[0].landmark
            xy = lambda i: np.array([p[i].x * frame.width, p[i].y * frame.height])  # noqa: E731
            opening.append(np.linalg.norm(xy(13) - xy(14)) / np.linalg.norm(xy(33) - xy(263)))
    return np.array(times), np.array(opening, dtype=np.float32)


def partner_voice(shared_data, seconds):
    """A one-speaker stretch of sample.wav of at least `seconds` (float32 [n] at 16 kHz)."""
    from attunement.conversation.rttm import read_rttm
    from attunement.evaluation.assemble import single_speaker_stretches
    from attunement.sources.media import read_audio

    conv = shared_data / "conversations"
    stretch = max(single_speaker_stretches(read_rttm(conv / "sample.rttm")), key=lambda s: s.duration)
    assert stretch.duration >= seconds
    audio, _ = read_audio(conv / "sample.wav", rate=16000)
    return audio.mean(axis=0)[round(stretch.start * 16000): round((stretch.start + seconds) * 16000)]


@pytest.mark.realdata
@pytest.mark.parametrize("clip", ["WDA_AlexandriaOcasioCortez_000.mp4", "WDA_KatieHill_000.mp4"])
def test_on_camera_voice_is_me_on_real_clips(shared_data, clip, rng):
    from attunement.sources.media import read_audio

    path = shared_data / "video" / clip
    t, opening = mouth_track(path)
    assert np.isfinite(opening).mean() > 0.9
    audio, _ = read_audio(path, rate=16000)
    own = audio.mean(axis=0)
    cut, pause, gap = 4.0, 0.6, 4.0           # split the clip at 4 s; the partner talks `gap` s in between
    other = partner_voice(shared_data, gap - 2 * pause)
    other *= np.sqrt(np.mean(own ** 2) / np.mean(other ** 2))
    silence = np.zeros(round(pause * 16000), np.float32)
    i = round(cut * 16000)
    mix = np.concatenate([own[:i], silence, other, silence, own[i:]]).astype(np.float32)
    mix += (1e-4 * rng.standard_normal(mix.size)).astype(np.float32)
    # the mouth track: the clip's own before and after; a still, closed mouth with jitter while the partner talks
    closed = float(np.nanpercentile(opening, 10))
    frozen_t = np.arange(cut, cut + gap, 0.04)
    track_t = np.concatenate([t[t < cut], frozen_t, t[t >= cut] + gap])
    track = np.concatenate([opening[t < cut], closed + 0.003 * rng.standard_normal(frozen_t.size),
                            opening[t >= cut]]).astype(np.float32)

    activity = detect_speech(mix, 16000, config=default_config().vad)
    diarizer = Diarizer(config=default_config().diarization)
    diarizer.feed(AudioBlock(mix[None, :], 0.0, 16000))
    labelled = relabel_with_mouth(diarizer.finish(activity, mix.size / 16000), track_t, track,
                                  min_activity=default_config().diarization.me_min_mouth_activity)

    grid = np.arange(0, mix.size / 16000, 0.01) + 0.005
    speech = np.repeat(activity.speech[0], 3)[: grid.size]
    grid, speech = grid[: speech.size], speech

    def covered(name):
        out = np.zeros(grid.size, bool)
        for s in labelled:
            if s.speaker == name:
                out |= (grid >= s.start) & (grid < s.end)
        return out

    partner_time = (grid >= cut + pause) & (grid < cut + gap - pause)
    own_time = ~((grid >= cut) & (grid < cut + gap))
    me_share = covered("me")[own_time & speech].mean()
    partner_share = covered("partner")[partner_time & speech].mean()
    assert (own_time & speech).sum() > 500 and (partner_time & speech).sum() > 150
    assert me_share >= 0.9, f"{clip}: only {me_share:.0%} of the on-camera speech is labelled me"
    assert partner_share >= 0.9, f"{clip}: only {partner_share:.0%} of the other voice is labelled partner"
