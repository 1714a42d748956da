"""attunement: offline, on-device feedback on practice conversations."""

__version__ = "0.1.0"
