"""Videos of a real portrait warped through scripted head poses, with the exact landmarks of every
frame: truth for the tests and benchmarks of the camera cues (demo/warp.py does the warping)."""

from __future__ import annotations

from ..demo.warp import Nod, Pose, lean_in


def demo_script() -> tuple[list[tuple[float, Pose]], list[Nod]]:
    """The demo's 8 s of head motion: face the camera, look down (at notes), turn the head, lean in, nod."""
    down = Pose(gaze_pitch_deg=-15.0)
    keys = [(0.0, Pose()), (1.0, Pose()), (1.3, down), (2.0, down), (2.3, Pose()),
            (3.0, Pose(yaw_deg=20.0)), (3.5, Pose(yaw_deg=20.0)), (4.0, Pose())]
    keys += lean_in(4.5, gain=0.10, ramp_s=0.5, hold_s=1.0)
    keys += [(8.0, Pose(scale=1.10))]
    return keys, [Nod(6.0, 7.5, amplitude_deg=8.0, rate_hz=2.0)]
