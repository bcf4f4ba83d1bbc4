"""Where the data folders are: the checkout's `intents/` and `content/`, or the installed copy.

A plain `pip install .` copies both folders into the package as `bot/_data/`; a checkout (or an
editable install) reads them from the repository root. Nothing else in the code hard-codes paths.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder `name` ("intents" or "content"), preferring the checkout's copy."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"cannot find the '{name}' folder next to the package or in bot/_data/; "
        "reinstall with 'pip install .'"
    )
