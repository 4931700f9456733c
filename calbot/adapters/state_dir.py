"""The state dir, shared by the state store and the state lock: private to the user."""

from __future__ import annotations

from pathlib import Path


def make_state_dir(state_dir: Path) -> None:
    """Create `state_dir` (0700) and its parents when missing; an existing one is left as
    it is."""
    if state_dir.is_dir():
        return
    state_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        state_dir.mkdir(mode=0o700)
        state_dir.chmod(0o700)  # mkdir's mode is masked by the umask
    except FileExistsError:
        pass
