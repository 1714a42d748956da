"""A video for the demo conversation: the real portrait moved through known head poses and gaze.

The person on camera is the conversation's first speaker. While the other speaks they nod; once
they glance down at notes (eye contact lost); once they turn their head while their eyes stay on
the lens (eye contact kept); once they lean in. The truth is the script below, in seconds.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from matplotlib import cbook
from matplotlib import image as mpimage

from ..config import PerceptionConfig
from ..errors import InputError
from ..perception.landmarks import FaceBodyLandmarker
from ..records import VideoFrame
from .warp import Nod, Pose, lean_in, pose_at, warp_face

#: What happens on camera, (start, end) seconds, in the demo conversation's timeline.
LOOK_DOWN = (9.6, 10.6)
TURN_KEEPING_EYES = (13.2, 14.2)
LEAN_IN_AT = 24.2
NODS = (Nod(3.9, 5.0, amplitude_deg=8.0, rate_hz=2.0), Nod(12.6, 13.6, amplitude_deg=8.0, rate_hz=2.0),
        Nod(27.5, 28.5, amplitude_deg=8.0, rate_hz=2.0))


def portrait() -> np.ndarray:
    """matplotlib's public-domain Grace Hopper portrait, RGB uint8 [600, 512, 3]."""
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.ascontiguousarray(mpimage.imread(f, format="jpg"))


def demo_keyframes(duration_s: float) -> list[tuple[float, Pose]]:
    """Head and gaze keyframes of the demo (see the module docstring)."""
    still, down = Pose(), Pose(pitch_deg=-20.0, gaze_pitch_deg=-25.0)  # glancing down at notes
    turned = Pose(yaw_deg=15.0, gaze_yaw_deg=-15.0)  # head turned, eyes back on the lens
    a, b = LOOK_DOWN
    c, d = TURN_KEEPING_EYES
    keys = [(0.0, still), (a - 0.2, still), (a, down), (b, down), (b + 0.2, still),
            (c - 0.3, still), (c, turned), (d, turned), (d + 0.3, still), (LEAN_IN_AT - 0.1, still)]
    keys += lean_in(LEAN_IN_AT, gain=0.10, ramp_s=0.4, hold_s=2.0)
    end_lean = keys[-1][0]
    keys += [(end_lean + 0.4, still), (max(duration_s, end_lean + 0.5), still)]
    return keys


def render_demo_video(path: str | Path, audio: np.ndarray, rate: int, *, fps: float = 15.0,
                      perception: PerceptionConfig | None = None) -> None:
    """Write `path` (Matroska: MPEG-4 video of the moving portrait + lossless PCM `audio` [ch, n])."""
    image = portrait()
    with FaceBodyLandmarker(perception, static=True) as marker:
        src = marker.process(VideoFrame(image, 0.0, 0)).face
    if not np.isfinite(src).all():
        raise InputError("the demo portrait's face was not found")
    duration = audio.shape[-1] / rate
    keys = demo_keyframes(duration)
    frames = (warp_face(image, src, **_kwargs(pose_at(keys, NODS, k / fps)))[0]
              for k in range(int(duration * fps)))
    write_video(path, frames, fps=fps, audio=audio, rate=rate)


def _kwargs(pose: Pose) -> dict:
    return dataclasses.asdict(pose)


def write_video(path: str | Path, frames, *, fps: float, audio: np.ndarray | None = None, rate: int = 16000) -> None:
    """Encode RGB uint8 frames [h, w, 3] (any iterable) at `fps`, with float32 `audio` [ch, n] as 16-bit PCM."""
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream("mpeg4", rate=Fraction(fps).limit_denominator(1000))
        video.pix_fmt, video.bit_rate = "yuv420p", 2_000_000
        sound = None
        if audio is not None:
            layout = {1: "mono", 2: "stereo"}.get(audio.shape[0])
            if layout is None:
                raise InputError(f"write_video takes 1 or 2 audio channels, got {audio.shape[0]}")
            sound = out.add_stream("pcm_s16le", rate=rate, layout=layout)
        for k, pixels in enumerate(frames):
            if k == 0:
                video.height, video.width = pixels.shape[:2]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            frame.pts = k
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            pcm = (np.clip(audio, -1.0, 1.0) * 32767).round().astype(np.int16)
            for i in range(0, pcm.shape[1], 1024):
                piece = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, i:i + 1024].T.reshape(1, -1)),
                                                   format="s16", layout=layout)
                piece.sample_rate, piece.pts, piece.time_base = rate, i, Fraction(1, rate)
                out.mux(sound.encode(piece))
            out.mux(sound.encode(None))
