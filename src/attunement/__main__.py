"""`python -m attunement` is the `attune` command."""

import sys

from .cli import main

sys.exit(main())
