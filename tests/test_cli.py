import pytest
from typer.testing import CliRunner

from powerlens.cli import app
from support import write_daily_csv as _write

COMMANDS = ["generate", "validate", "features", "segment", "train", "score", "report", "ui", "lab", "bench"]


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
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,LIMIT_BAL\n1,x\n")
    result = CliRunner().invoke(app, ["import", "credit-history", str(bad), "--out", str(tmp_path / "o2"),
                                      "--key-file", str(key_file)])
    assert result.exit_code == 2 and "bad.csv" in result.output and "Traceback" not in result.output


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
    result = CliRunner().invoke(app, ["validate", str(src), "--out", str(tmp_path / "clean"),
                                      "--key-file", str(key_file)])
    assert result.exit_code == 2
    assert "readings_daily.csv: missing column(s) kwh" in result.output
    assert "Traceback" not in result.output


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
