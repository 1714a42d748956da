"""One small exception hierarchy; the CLI turns each into one line and an exit status."""


class AttuneError(Exception):
    """Base of every error attunement raises on purpose."""

    exit_status = 1


class InputError(AttuneError):
    """The user's input cannot be used: missing, empty, corrupt, unsupported or malformed."""

    exit_status = 2


class ConfigError(InputError):
    """A setting is unknown or out of range (a typo in a TOML file, a bad flag value)."""


class EndOfStream(AttuneError):
    """A source has no more data; sources raise it once, instead of hanging."""
