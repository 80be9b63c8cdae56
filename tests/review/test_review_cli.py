"""`gazette review`: what it refuses before starting Voilà."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.review.app import ENV_OUT_DIR, NOTEBOOK, voila_command, voila_config


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


def test_the_notebook_reads_its_folder_from_the_environment_voila_is_started_with(tmp_path: Path) -> None:
    assert ENV_OUT_DIR in NOTEBOOK.read_text(encoding="utf-8")
    command = voila_command(8123, tmp_path)
    assert str(NOTEBOOK) in command and "--port=8123" in command
    assert f"--Voila.config_file_paths={tmp_path}" in command  # only the run's own voila.json is read
    config = voila_config(tmp_path)
    assert config["Voila"]["ip"] == "127.0.0.1" and config["Voila"]["auto_token"] is True
    assert config["Voila"]["tornado_settings"]["allow_remote_access"] is False
    assert config["KernelManager"]["transport"] == "ipc"
