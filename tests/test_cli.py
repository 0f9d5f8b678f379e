import pytest
from typer.testing import CliRunner

from powerlens.cli import app

COMMANDS = ["generate", "validate", "features", "segment", "train", "score", "report", "ui", "lab"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command):
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output.splitlines()) > 4


def test_servers_bind_to_loopback_by_default():
    for command in ("ui", "lab"):
        out = CliRunner().invoke(app, [command, "--help"]).output
        assert "127.0.0.1" in out


def test_missing_input_is_one_line_not_a_traceback(tmp_path):
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "no such folder" in result.output and "Traceback" not in result.output
