"""The `attune` command: review recordings, practise live, rehearse, and look back at past sessions.

One handler per subcommand (cli/review.py, cli/live.py, cli/saved.py), registered in
cli/parser.py. Errors the user can fix print one line `attune: error: ...` and exit 2;
unexpected ones exit 1 with one line (`--debug` shows the traceback).
"""

from __future__ import annotations

import logging
import sys

from ..config import load_config
from ..errors import AttuneError
from .parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(name)s: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args, load_config(args.config))
    except AttuneError as e:
        if debug:
            raise
        print(f"attune: error: {e}", file=sys.stderr)
        return e.exit_status
    except BrokenPipeError:  # the reader went away (`attune ... | head`): stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 141
    except KeyboardInterrupt:  # every output is written whole or not at all (temporary name, then renamed)
        print("attune: interrupted; nothing was written for the unfinished work", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if debug:
            raise
        print(f"attune: internal error: {e.__class__.__name__}: {e} (run with --debug for details)", file=sys.stderr)
        return 1
