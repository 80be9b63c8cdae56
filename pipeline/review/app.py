"""`gazette review OUT_DIR`: the review notebook served as a standalone app by Voilà on localhost.

The notebook (notebooks/review.ipynb) reads what to review from the environment, which the
Voilà kernel inherits: OUT_DIR, the reviewer's name, and the folder relative source paths
are read against (where `gazette convert` ran, taken to be the working folder).

Who may use it. Whoever reaches the server can write corrections into the journal, so it is
locked down the way Jupyter locks down a notebook server:

- it listens on 127.0.0.1 only;
- a random token, made for each run, must come with the first request (the URL printed, and
  opened in the browser, carries it as `?token=…`; the browser then holds a login cookie). It
  reaches Voilà through the JUPYTER_TOKEN environment variable, never the command line,
  which any local user can read (`ps`);
- requests must name the server as localhost or a loopback address in their Host header
  (`allow_remote_access` off): a page from another site that rebinds its DNS name to
  127.0.0.1 (DNS rebinding) is refused, token or not; and a cross-site Origin is refused
  (Jupyter's origin check, `allow_origin` left empty);
- kernels talk to the server over Unix sockets in Voilà's private (0700) folder, not TCP
  ports on localhost that any local user could connect to (`KernelManager.transport=ipc`);
- no files are served besides the app's own assets (`file_allowlist` empty).

Kernels. Voilà starts a kernel (~100 MB) per page load and its page shuts it down when the tab
is closed; a kernel whose page never said goodbye (a crashed browser, a request without the
page's script) is culled after KERNEL_IDLE_SECONDS without activity and without a browser
connected. Voilà cannot hand one kernel to every page load of a browser session: its
pre-heated kernels (`--preheat_kernel`, `--pool_size`) only start the next page's kernel in
advance, one more kernel always running, so they are not used.

Trust. Voilà logs "Notebook … is not trusted" when the notebook carries no signature from
the user's signature store. Trust decides whether outputs stored in a notebook may run
JavaScript when it is opened; the review notebook stores no outputs and Voilà runs it afresh,
so `serve` signs the notebook it ships in a throwaway signature store of its own
(`NotebookNotary.data_dir`), as `jupyter trust` would in the user's, instead of leaving a
warning on every page load.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import webbrowser
from pathlib import Path

from pipeline.errors import InputError, MissingDependencyError, PortInUseError

__all__ = [
    "ENV_OUT_DIR",
    "ENV_REVIEWER",
    "ENV_SOURCE_ROOT",
    "KERNEL_IDLE_SECONDS",
    "NOTEBOOK",
    "new_token",
    "review_url",
    "serve",
    "voila_command",
    "voila_config",
]

ENV_OUT_DIR = "GAZETTE_REVIEW_OUT_DIR"
ENV_REVIEWER = "GAZETTE_REVIEWER"
ENV_SOURCE_ROOT = "GAZETTE_REVIEW_SOURCE_ROOT"
ENV_TOKEN = "JUPYTER_TOKEN"  # read by jupyter_server's identity provider
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "review.ipynb"
HOST = "127.0.0.1"
KERNEL_IDLE_SECONDS = 900  # a reviewer thinking over a word keeps the page connected: never culled
KERNEL_CULL_INTERVAL = 60
_STARTUP_SECONDS = 60  # how long the browser waits for Voilà to listen


def new_token() -> str:
    """A random token, as Jupyter makes them (48 hex digits)."""
    return secrets.token_hex(24)


def review_url(port: int, token: str) -> str:
    return f"http://{HOST}:{port}/?token={token}"


def voila_config(private_dir: Path) -> dict[str, dict[str, object]]:
    """Voilà's configuration (see the module docstring), written as voila.json into the run's
    private folder: the only configuration Voilà reads, so a voila.py lying in the folder
    `gazette review` runs in (Voilà's default search path) is never executed."""
    return {
        "Voila": {
            "ip": HOST,
            "port_retries": 0,  # the URL printed must be the one served
            "open_browser": False,  # Voilà would open the URL without the token; serve opens it
            "auto_token": True,  # require a token: the identity provider takes it from JUPYTER_TOKEN
            "tornado_settings": {"allow_remote_access": False, "local_hostnames": ["localhost"], "allow_origin": ""},
        },
        "KernelManager": {"transport": "ipc"},
        "MappingKernelManager": {
            "cull_idle_timeout": KERNEL_IDLE_SECONDS,
            "cull_interval": KERNEL_CULL_INTERVAL,
            "cull_connected": False,
        },
        "VoilaConfiguration": {
            "file_allowlist": [],
            "show_tracebacks": True,  # an archivist's bug report then says what broke
        },
        "NotebookNotary": {"data_dir": str(private_dir)},
    }


def voila_command(port: int, private_dir: Path) -> list[str]:
    """Voilà's command line; the rest of its configuration is `voila_config`, in `private_dir`
    (the token goes in the environment)."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(NOTEBOOK),
        f"--port={port}",
        f"--Voila.config_file_paths={private_dir}",
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
    token = new_token()
    url = review_url(port, token)
    with tempfile.TemporaryDirectory(prefix="gazette-review-") as private:  # 0700: this user's only
        private_dir = Path(private)
        _trust_notebook(private_dir)
        (private_dir / "voila.json").write_text(json.dumps(voila_config(private_dir), indent=1), encoding="utf-8")
        env = {**os.environ, ENV_OUT_DIR: str(out_dir), ENV_SOURCE_ROOT: os.getcwd(), ENV_TOKEN: token}
        if reviewer:
            env[ENV_REVIEWER] = reviewer
        print(f"review app: {url}  (reviewing {out_dir}; Ctrl+C stops it)", flush=True)
        process = subprocess.Popen(voila_command(port, private_dir), env=env)
        try:
            if open_browser and _wait_for_port(port, process):
                _open_browser(url, private_dir)
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


def _trust_notebook(private_dir: Path) -> None:
    """Sign the shipped notebook in a signature store of this run (see the module docstring)."""
    import nbformat
    from nbformat.sign import NotebookNotary

    secret = base64.encodebytes(os.urandom(1024))  # what NotebookNotary makes, written quietly
    secret_file = private_dir / "notebook_secret"  # where Voilà's notary reads it
    secret_file.write_bytes(secret)
    secret_file.chmod(0o600)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with NotebookNotary(data_dir=str(private_dir), secret=secret) as notary:
        notary.sign(notebook)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return True
        time.sleep(0.2)
    return False


def _open_browser(url: str, private_dir: Path) -> None:
    """Open `url` through a file that redirects to it, as Jupyter does: the browser's command
    line (which any local user can read) then holds no token."""
    redirect = private_dir / "open-review.html"
    redirect.write_text(
        f'<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={url}">'
        f'<p><a href="{url}">gazette review</a></p>\n',
        encoding="utf-8",
    )
    webbrowser.open(redirect.as_uri(), new=2)
