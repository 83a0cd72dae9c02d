"""Files that hold personal data are created readable by their owner only (0600, issue 14).

Statements, exports and report images carry owners' names, phones and addresses; the SQLite file
holds everything. A shared host's other users must not read them, whatever the umask says.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url

PRIVATE = 0o600
PRIVATE_DIR = 0o700


def private_file(path: Path | str) -> Path:
    """Create the file (empty) if missing and make it 0600; returns the path.

    An existing file is only chmod-ed, never opened: closing any descriptor of a SQLite file
    drops every POSIX lock this process holds on it, which lets another connection corrupt it.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        os.chmod(path, PRIVATE)
    else:
        os.fchmod(fd, PRIVATE)  # the umask may have masked the mode given to open()
        os.close(fd)
    return path


def open_private(path: Path | str, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """open() for writing a file that is 0600 before the first byte lands in it."""
    private_file(path)
    return Path(path).open(mode, **kwargs)


def private_dir(path: Path | str) -> Path:
    """mkdir -p; a directory we create is 0700 (an existing one is left as the operator set it)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    return path


def private_sqlite(url: str) -> None:
    """Make a SQLite database file 0600 (creating it if needed) before any connection opens it.

    SQLite gives its -wal and -shm files the database file's permissions, so they follow.
    """
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        return
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # let SQLite report the missing directory as it always has
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, PRIVATE)
