"""The one way gazette runs an external program (tesseract, djpeg).

A missing program becomes MissingDependencyError naming the Debian package that provides it;
callers map a non-zero exit and a timeout to the error of their stage (OcrError, …).
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Mapping, Sequence

from pipeline.errors import MissingDependencyError

__all__ = ["PACKAGES", "run_program"]

log = logging.getLogger(__name__)

# Program → the Debian package that installs it (the Makefile installs them all).
PACKAGES = {"tesseract": "tesseract-ocr", "djpeg": "libjpeg-turbo-progs", "pdftoppm": "poppler-utils"}


def run_program(
    argv: Sequence[str], *, stdin: bytes | None = None, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` with bytes in and out; subprocess.TimeoutExpired propagates (the program is
    killed first), a missing program raises MissingDependencyError."""
    log.debug("running %s", " ".join(argv))
    try:
        return subprocess.run(list(argv), input=stdin, capture_output=True, timeout=timeout, env=env, check=False)
    except (FileNotFoundError, PermissionError) as exc:
        package = PACKAGES.get(argv[0], argv[0])
        raise MissingDependencyError(
            f"the {argv[0]} program is not installed", advice=f"Install it: apt-get install {package}"
        ) from exc
