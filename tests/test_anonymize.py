import pandas as pd
import pytest

from powerlens.anonymize import (
    PseudonymKeyError,
    identifier_columns,
    load_or_create_key,
    pseudonym,
    pseudonymize,
)


def test_pseudonyms_are_keyed_and_stable():
    a, b = b"a" * 40, b"b" * 40
    assert pseudonym(a, "AC123") == pseudonym(a, "AC123")
    assert pseudonym(a, "AC123") != pseudonym(b, "AC123")
    assert pseudonym(a, "AC123") != pseudonym(a, "AC124")
    assert "123" not in pseudonym(a, "AC123")


def test_pseudonymize_column_keeps_missing_and_order():
    out = pseudonymize(b"k" * 40, pd.Series(["x", None, "y", "x"]))
    assert out.iloc[0] == out.iloc[3] != out.iloc[2]
    assert pd.isna(out.iloc[1])


def test_pseudonymize_gives_each_id_its_pseudonym():
    ids = pd.Series([" AC1", "AC1", "客户-7", "0042", None, "x y"])
    out = pseudonymize(b"k" * 40, ids)
    assert out.iloc[:2].nunique() == 1  # surrounding spaces are not part of the id
    assert [out.iloc[i] for i in (0, 2, 3, 5)] == [pseudonym(b"k" * 40, ids.iloc[i]) for i in (0, 2, 3, 5)]


def test_pseudonyms_made_before_are_reused_and_the_others_hashed():
    key = b"k" * 40
    bills = pd.Series(["bill:1", "bill:2", "bill:2", "bill:客-3", None])
    made = pd.Series(pseudonymize(key, bills).array, index=pd.Index(bills.array))
    payments = pd.Series(["bill:2", "bill:9", None, "bill:客-3", "bill:1", "bill:9"], index=[5, 3, 1, 0, 2, 4])
    out = pseudonymize(key, payments, made=made)
    assert out.index.equals(payments.index) and out.equals(pseudonymize(key, payments))
    assert out.loc[3] == pseudonym(key, "bill:9") and pd.isna(out.loc[1])
    # the pseudonyms given are looked up, not hashed again
    assert pseudonymize(key, payments, made=made.map(lambda p: "other")).loc[5] == "other"


def test_key_is_created_with_a_message_and_reused(tmp_path):
    messages = []
    path = tmp_path / "keys" / "k.key"
    k1 = load_or_create_key(path, notify=messages.append)
    k2 = load_or_create_key(path, notify=messages.append)
    assert k1 == k2 and len(messages) == 1 and "created" in messages[0]
    assert str(path) not in messages[0]  # the key's path is not echoed into logs
    assert (path.stat().st_mode & 0o777) == 0o600


def test_key_inside_the_data_folder_is_refused(tmp_path):
    with pytest.raises(PseudonymKeyError, match="must not live inside"):
        load_or_create_key(tmp_path / "data" / "k.key", inside=tmp_path)


def test_identifier_columns_are_recognised():
    cols = ["account_no", "customer_name", "address", "phone", "kwh", "region", "contact_phone", "email"]
    assert set(identifier_columns(cols)) == {"account_no", "customer_name", "address", "phone",
                                             "contact_phone", "email"}


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_key_others_can_read_is_refused(tmp_path, mode):
    path = tmp_path / "k.key"
    path.write_text("ab" * 32 + "\n")
    path.chmod(mode)
    with pytest.raises(PseudonymKeyError, match="readable by others.*chmod 600") as caught:
        load_or_create_key(path)
    assert str(path) not in str(caught.value)  # the message names the setting, not the path
    path.chmod(0o600)
    assert load_or_create_key(path) == b"ab" * 32


def test_a_binary_key_file_is_one_clear_error(tmp_path):
    path = tmp_path / "k.key"
    path.write_bytes(b"\x89PNG\r\n" + bytes(range(200, 256)) * 2)
    path.chmod(0o600)
    with pytest.raises(PseudonymKeyError, match="not a text key"):
        load_or_create_key(path)


def test_processes_creating_the_key_at_once_all_get_the_same_key(tmp_path):
    """The first run of several commands at once: one key is created, every process reads it."""
    import subprocess
    import sys

    path = tmp_path / "keys" / "k.key"
    code = ("import sys; from powerlens.anonymize import load_or_create_key; "
            "print(load_or_create_key(sys.argv[1], notify=lambda m: None).decode())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    assert len({out.strip() for out, _ in results}) == 1 and len(results[0][0].strip()) == 64
    assert sorted(p.name for p in path.parent.iterdir()) == ["k.key"]
