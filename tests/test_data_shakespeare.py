import shutil

import pytest

from rnnkit.data import ChecksumError, DataFormatError, data_dir, load_tiny_shakespeare
from rnnkit.data import shakespeare as shakespeare_module


def test_shipped_text_has_the_tfds_split():
    splits = load_tiny_shakespeare()
    assert list(splits) == ["train", "validation", "test"]
    assert {name: len(text) for name, text in splits.items()} == {
        "train": 1_003_854, "validation": 55_770, "test": 55_770}
    assert len(set("".join(splits.values()))) == 65
    assert splits["train"].startswith("First Citizen:\nBefore we proceed any further")


def test_split_is_contiguous_90_5_5():
    splits = shakespeare_module.split_tfds("abcdefghijklmnopqrst")  # 20 chars: 18 / 1 / 1
    assert splits == {"train": "abcdefghijklmnopqr", "validation": "s", "test": "t"}
    with pytest.raises(ValueError, match="too short"):
        shakespeare_module.split_tfds("abc")


def copy_data(tmp_path, monkeypatch):
    root = tmp_path / "data"
    (root / "tiny_shakespeare").mkdir(parents=True)
    shutil.copy(data_dir() / "SHA256SUMS", root / "SHA256SUMS")
    monkeypatch.setenv("RNNKIT_DATA_DIR", str(root))
    return root / "tiny_shakespeare" / "input.txt"


def test_damaged_copy_fails_the_checksum_naming_the_file(tmp_path, monkeypatch):
    target = copy_data(tmp_path, monkeypatch)
    target.write_text("First Citizen:\nshortened\n", encoding="utf-8")
    with pytest.raises(ChecksumError, match=r"tiny_shakespeare/input.txt: SHA-256 mismatch"):
        load_tiny_shakespeare()


def test_missing_file_and_bad_bytes_name_the_file(tmp_path, monkeypatch):
    copy_data(tmp_path, monkeypatch)
    with pytest.raises(FileNotFoundError, match=r"tiny_shakespeare/input.txt: dataset file not found"):
        load_tiny_shakespeare()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"To be,\nor not\xff to be")
    with pytest.raises(DataFormatError, match=r"bad.txt, line 2: expected UTF-8 text, got byte 0xff"):
        load_tiny_shakespeare(path=bad)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DataFormatError, match="empty file"):
        load_tiny_shakespeare(path=empty)


def test_download_path_offline_with_file_url(tmp_path, monkeypatch):
    shipped = data_dir() / shakespeare_module.SHAKESPEARE_FILE
    target = copy_data(tmp_path, monkeypatch)
    monkeypatch.setattr(shakespeare_module, "SHAKESPEARE_URL", shipped.as_uri())
    splits = load_tiny_shakespeare(download=True)  # fetched, verified, then read
    assert target.is_file() and len(splits["test"]) == 55_770
    target.unlink()
    monkeypatch.setattr(shakespeare_module, "SHAKESPEARE_SHA256", "0" * 64)
    with pytest.raises(ChecksumError, match="was left unchanged"):
        load_tiny_shakespeare(download=True)
    assert not target.exists()


def test_tfds_source_reads_prepared_records(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no prepared array_record copy of 'tiny_shakespeare'"):
        load_tiny_shakespeare("tfds", path=tmp_path)
    prepared = tmp_path / "tiny_shakespeare" / "1.0.0"
    prepared.mkdir(parents=True)
    (prepared / "dataset_info.json").write_text("{}")
    (prepared / "tiny_shakespeare-train.array_record-00000-of-00001").write_bytes(b"")
    texts = {"train": b"Before we proceed", "validation": "any further,", "test": b" hear me speak."}
    calls = []

    class FakeTfds:
        @staticmethod
        def data_source(name, *, split, data_dir, download):
            calls.append((name, split, data_dir, download))
            return [{"text": texts[split]}]

    monkeypatch.setitem(__import__("sys").modules, "tensorflow_datasets", FakeTfds)
    splits = load_tiny_shakespeare("tfds", path=tmp_path)
    assert splits == {"train": "Before we proceed", "validation": "any further,", "test": " hear me speak."}
    assert calls[0] == ("tiny_shakespeare", "train", str(tmp_path), False)


def test_unknown_source():
    with pytest.raises(ValueError, match="source must be 'local' or 'tfds'"):
        load_tiny_shakespeare("web")
