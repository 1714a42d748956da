"""Device specs and the list of cameras and microphones (`attune devices`)."""

from __future__ import annotations

import os
from typing import Any

from ..errors import InputError
from .camera import camera_names
from .microphone import list_microphones


def device_spec(spec: str | None):
    """A device given as digits is an index; anything else passes on as it is."""
    return int(spec) if isinstance(spec, str) and spec.isdigit() and not os.path.exists(spec) else spec


def list_devices() -> dict[str, Any]:
    """Cameras ({path, name}) and PortAudio input devices ({index, name, channels, rate}),
    for `attune devices`."""
    try:
        mics, notes = list_microphones(), []
    except InputError as e:  # no PortAudio: still list the cameras
        mics, notes = [], [str(e)]
    return {"cameras": [{"path": p, "name": n} for p, n in camera_names().items()],
            "microphones": mics, "notes": notes}
