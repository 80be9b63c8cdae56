"""`gazette review`: what it refuses before starting Voilà."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.review.app import ENV_OUT_DIR, NOTEBOOK, voila_command


def test_review_refuses_a_missing_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["review", str(tmp_path / "nowhere"), "--no-browser"]) == 3
    assert "no such output folder" in capsys.readouterr().err


def test_review_refuses_a_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["review", str(tmp_path), "--no-browser", "--port", str(port)]) == 2
    assert f"[E500] port {port} on 127.0.0.1 is in use" in capsys.readouterr().err


def test_the_notebook_reads_its_folder_from_the_environment_voila_is_started_with() -> None:
    assert ENV_OUT_DIR in NOTEBOOK.read_text(encoding="utf-8")
    command = voila_command(8123, open_browser=False)
    assert str(NOTEBOOK) in command and "--port=8123" in command and "--no-browser" in command
