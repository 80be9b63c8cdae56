"""`gazette review OUT_DIR`: the review notebook served as a standalone app by Voilà on localhost.

The notebook (notebooks/review.ipynb) reads what to review from the environment, which the
Voilà kernel inherits: OUT_DIR, the reviewer's name, and the folder relative source paths
are read against (where `gazette convert` ran, taken to be the working folder).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

from pipeline.errors import InputError, MissingDependencyError, PortInUseError

__all__ = ["ENV_OUT_DIR", "ENV_REVIEWER", "ENV_SOURCE_ROOT", "NOTEBOOK", "review_url", "serve", "voila_command"]

ENV_OUT_DIR = "GAZETTE_REVIEW_OUT_DIR"
ENV_REVIEWER = "GAZETTE_REVIEWER"
ENV_SOURCE_ROOT = "GAZETTE_REVIEW_SOURCE_ROOT"
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "review.ipynb"
HOST = "127.0.0.1"


def review_url(port: int) -> str:
    return f"http://{HOST}:{port}/"


def voila_command(port: int, open_browser: bool) -> list[str]:
    return [
        sys.executable,
        "-m",
        "voila",
        str(NOTEBOOK),
        f"--port={port}",
        f"--Voila.ip={HOST}",
        "--Voila.port_retries=0",  # the URL printed must be the one served
        "--VoilaConfiguration.show_tracebacks=True",  # an archivist's bug report then says what broke
        *([] if open_browser else ["--no-browser"]),
    ]


def serve(out_dir: str | Path, *, port: int = 8866, reviewer: str | None = None, open_browser: bool = True) -> int:
    """Run Voilà until it stops (Ctrl+C); returns its exit status."""
    out_dir = Path(out_dir).resolve()
    if not out_dir.is_dir():
        raise InputError("no such output folder", path=out_dir, advice="Pass the folder `gazette convert -o` wrote.")
    if importlib.util.find_spec("voila") is None:
        raise MissingDependencyError("Voilà is not installed", advice="pip install voila (or run `make run`).")
    if not NOTEBOOK.is_file():
        raise MissingDependencyError(
            "the review notebook is missing", path=NOTEBOOK, advice="Restore notebooks/ from git."
        )
    _check_port(port)
    env = {**os.environ, ENV_OUT_DIR: str(out_dir), ENV_SOURCE_ROOT: os.getcwd()}
    if reviewer:
        env[ENV_REVIEWER] = reviewer
    print(f"review app: {review_url(port)}  (reviewing {out_dir}; Ctrl+C stops it)", flush=True)
    process = subprocess.Popen(voila_command(port, open_browser), env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=30)
        raise


def _check_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise PortInUseError(f"port {port} on {HOST} is in use ({exc.strerror or exc})") from exc
