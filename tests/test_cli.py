import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from powerlens.cli import app
from support import write_daily_csv as _write


def powerlens(*args, env=None, timeout=300) -> subprocess.CompletedProcess:
    """The command as a user runs it (a real process: a traceback would reach its stderr)."""
    return subprocess.run([sys.executable, "-m", "powerlens.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, from the kernel's tables."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not os.path.exists(table):
            continue
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found

COMMANDS = ["generate", "validate", "features", "segment", "train", "score", "report", "ui", "lab", "bench"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command):
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output.splitlines()) > 4


@pytest.mark.slow
@pytest.mark.parametrize("command", ["ui", "lab"])
def test_servers_listen_on_loopback_only_by_default(command, tmp_path):
    """Started for real: every socket the server listens on is 127.0.0.1."""
    port = _free_port()
    env = {**os.environ, "POWERLENS_ROOT": str(tmp_path), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}",
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    (tmp_path / "params.yaml").write_text("{}\n")
    proc = subprocess.Popen([sys.executable, "-m", "powerlens.cli", command, "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not _listening_addresses(port) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
        addresses = _listening_addresses(port)
        assert addresses == {"127.0.0.1"}, f"{command} listens on {addresses or 'nothing'}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_missing_input_is_one_line_not_a_traceback(tmp_path):
    result = powerlens("validate", tmp_path / "nowhere", "--out", tmp_path / "o")
    assert result.returncode == 2, result.stderr
    assert "no such folder" in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.real_data
def test_import_command_writes_canonical_tables_and_exits_2_above_the_reject_limit(tmp_path, key_file):
    import pandas as pd

    from support import real_data

    src = real_data("uci_credit_default", "credit_default.csv.gz")
    out = tmp_path / "clean"
    result = CliRunner().invoke(app, ["import", "credit-history", str(src), "--out", str(out),
                                      "--key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    assert '"reconciled": true' in result.output
    labels = pd.read_parquet(out / "labels.parquet")
    assert set(labels["task"]) == {"arrears"} and len(labels) > 20_000

    # a well-formed file with 10% of its rows broken: above the 5% limit, refused with exit 2
    rows = pd.read_csv(src, dtype=str, nrows=400)
    rows.loc[rows.index[::10], "LIMIT_BAL"] = "not a number"
    bad = tmp_path / "bad.csv"
    rows.to_csv(bad, index=False)
    result = powerlens("import", "credit-history", bad, "--out", tmp_path / "o2", "--key-file", key_file)
    assert result.returncode == 2, result.stderr
    assert "bad.csv: " in result.stderr and "rows rejected (10.0% > 5.0%)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o2" / "customers.parquet").exists()
    # the same file under a limit of 20% is imported, the broken rows quarantined
    result = powerlens("import", "credit-history", bad, "--out", tmp_path / "o3", "--key-file", key_file,
                       "--max-reject-fraction", "0.2")
    assert result.returncode == 0, result.stderr
    assert len(pd.read_parquet(tmp_path / "o3" / "quarantine" / "customers.parquet")) == 40


def test_pseudonymize_links_raw_ids_to_the_same_pseudonyms_as_the_import(key_file, small_raw, small_clean):
    import pandas as pd

    raw = pd.read_csv(small_raw / "customers.csv", dtype=str)["account_no"].head(3).tolist()
    result = CliRunner().invoke(app, ["pseudonymize", "--key-file", str(key_file)], input="\n".join(raw) + "\n")
    assert result.exit_code == 0
    pairs = [line.split(",") for line in result.output.strip().splitlines()]
    assert [p[0] for p in pairs] == raw
    known = set(pd.read_parquet(small_clean / "customers.parquet")["customer_id"])
    assert all(p[1] in known for p in pairs)


def test_backfill_needs_both_ends():
    result = CliRunner().invoke(app, ["report", "--from", "2026-05"])
    assert result.exit_code == 2 and "needs both --from and --to" in result.output


def test_cli_prints_one_line_per_problem_and_no_traceback(tiny_export, key_file, tmp_path):
    src, daily = tiny_export
    first = daily.iloc[0]
    _write(src, daily, [{"meter_no": first["meter_no"], "reading_date": "2026-01-05", "kwh": "-1"},
                        {"meter_no": "MT0000000000", "reading_date": "2026-01-05", "kwh": "1"}])
    result = CliRunner().invoke(app, ["validate", str(src), "--out", str(tmp_path / "clean"),
                                      "--key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if "quarantined:" in ln]
    assert len(lines) == 2
    assert any("kwh_negative" in ln and "readings_daily.csv line" in ln for ln in lines)
    assert any("unknown_customer" in ln for ln in lines)
    assert "Traceback" not in result.output


def test_missing_column_is_a_one_line_error_with_exit_code_2(tiny_export, key_file, tmp_path):
    src, daily = tiny_export
    daily.drop(columns=["kwh"]).to_csv(src / "readings_daily.csv", index=False)
    result = powerlens("validate", src, "--out", tmp_path / "clean", "--key-file", key_file)
    assert result.returncode == 2
    assert "readings_daily.csv: missing column(s) kwh" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_bug_keeps_its_traceback_and_our_errors_are_one_line(monkeypatch):
    """Only the project's own errors become one line (exit 2); anything else is a bug: its
    traceback and a hint to report it (exit 1), never a friendly message that hides it."""
    from powerlens.errors import MissingInput
    from powerlens.jobs import generate as job

    def bug(*_args, **_kwargs):
        return {}["customers"]

    monkeypatch.setattr(job, "run", bug)
    result = CliRunner().invoke(app, ["generate", "--customers", "20"])
    assert result.exit_code == 1
    assert "Traceback" in result.output and "KeyError: 'customers'" in result.output
    assert "this is a bug in powerlens" in result.output

    def ours(*_args, **_kwargs):
        raise MissingInput("no raw export yet\nsecond line")

    monkeypatch.setattr(job, "run", ours)
    result = CliRunner().invoke(app, ["generate"])
    assert result.exit_code == 2 and result.output.strip() == "error: no raw export yet"


def test_cli_defaults_come_from_params(tmp_path, monkeypatch):
    """`generate` with no options uses params.yaml's generate section (all of it)."""
    from powerlens.jobs import generate as job

    seen = {}
    monkeypatch.setattr(job, "run", lambda settings, **kw: seen.update(settings=settings, **kw))
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--seed", "7"])
    assert result.exit_code == 0, result.output
    from powerlens.config import load_config

    expected = load_config().generate
    assert seen["settings"].customers == expected.customers and seen["settings"].seed == 7
    assert seen["settings"].interval_metered_residential_share == expected.interval_metered_residential_share


def test_train_by_hand_writes_into_its_own_folder(tmp_path, monkeypatch):
    """`powerlens train` never writes into the pipeline's outputs (data/models) unless told."""
    from powerlens.jobs import train as job

    seen = {}

    def fake(task, cfg, **kwargs):
        seen.update(kwargs)
        return {"primary_metric": "roc_auc", "families": {}, "run_id": "r", "decision": "d"}

    monkeypatch.setattr(job, "run", fake)
    result = CliRunner().invoke(app, ["train", "churn"])
    assert result.exit_code == 0, result.output
    assert seen["out"].parts[-3:] == ("runs", "train", "churn") and "data" not in seen["out"].parts
    assert f"summary in {seen['out'] / 'metrics.json'}" in result.output
