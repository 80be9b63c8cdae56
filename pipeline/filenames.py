"""File names as gazette shows and stores them.

A POSIX file name is bytes. A name from a Windows zip (cp1258, VNI) is often not UTF-8, and
Python then holds it with surrogate escapes, which no UTF-8 output (JSON, XML, SQLite, a
terminal) accepts. gazette keeps every name two ways:
- `display_path`: for people and messages, with each byte that is not UTF-8 shown as U+FFFD;
- `file_uri`: lossless, a file: URI with the bytes percent-encoded (RFC 8089), from which
  `path_from_uri` gives back the very file.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

__all__ = ["display_path", "file_uri", "path_from_uri", "storable"]


def display_path(path: str | os.PathLike[str]) -> str:
    """The name as text: lossy (U+FFFD) only for bytes that are not UTF-8."""
    return os.fsencode(path).decode("utf-8", "replace")


def storable(path: str | os.PathLike[str]) -> bool:
    """True when the name is valid Unicode, so any UTF-8 store can hold it as text."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def file_uri(path: str | os.PathLike[str]) -> str:
    """`file:///…` of the absolute path, every byte kept (percent-encoded where needed)."""
    return Path(os.path.abspath(path)).as_uri()


def path_from_uri(uri: str) -> Path:
    """The path a `file_uri` names, byte for byte."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise ValueError(f"not a file: URI: {uri!r}")
    return Path(os.fsdecode(unquote_to_bytes(parts.path)))
