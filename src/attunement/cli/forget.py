"""Handler of `attune forget`: delete a saved session, all of them, or the calibration profile."""

from __future__ import annotations

from ..errors import InputError


def forget(args, config) -> int:
    """`attune forget SESSION | --all --yes | --profile`: deletes completely, says what went."""
    from ..session.runners.calibrate import default_profile_path, default_voice_path
    from ..session.store.forget import forget_all, forget_profile, forget_session
    from ..session.store.history import find_session

    if not (args.session or args.all or args.profile or args.voice):
        raise InputError("name what to forget: a session (see `attune history`), --all, --profile or --voice")
    if args.session and args.all:
        raise InputError("give a session or --all, not both")
    if args.all and not args.yes:
        raise InputError("--all deletes every saved session and review; add --yes to confirm")
    if args.session:
        folder = find_session(args.session)
        files = forget_session(folder)
        print(f"Forgot {folder.name}: {files} files deleted.")
    if args.all:
        folders, files = forget_all()
        print(f"Forgot {folders} sessions and reviews: {files} files deleted.")
    if args.profile:
        files = forget_profile(default_profile_path())
        print(f"Forgot the calibration profile: {files} files deleted." if files else "No calibration profile was saved.")
    if args.voice:
        voice = default_voice_path()
        gone = voice.exists()
        voice.unlink(missing_ok=True)
        print("Forgot your enrolled voice." if gone else "No voice profile was saved.")
    return 0
