"""Tiny Shakespeare (Karpathy, char-rnn 2015): 1,115,394 characters of the plays, one UTF-8 file.

The split is tensorflow-datasets' (``tiny_shakespeare`` builder): the first 90 % of the characters
are ``train`` (1,003,854), the next half of the rest ``validation`` (55,770), then ``test``
(55,770) — contiguous slices, in that order, so a model reads the validation text right after the
training text.

Sources, one result (``{"train": str, "validation": str, "test": str}``):

* ``"local"`` (default): the shipped ``data/tiny_shakespeare/input.txt``, checksum-verified;
  with ``path=`` another copy of that file, with ``download=True`` fetched from char-rnn's GitHub
  first (verified before it is kept);
* ``"tfds"``: ``tfds.data_source("tiny_shakespeare")`` on a copy prepared beforehand with
  ``file_format="array_record"`` (reads without TensorFlow; never downloads unless asked).
"""

from __future__ import annotations

import os
from pathlib import Path

from rnnkit.data.files import DataFormatError, data_dir, dataset_path, download_file, tfds_root

__all__ = [
    "SHAKESPEARE_FILE",
    "SHAKESPEARE_SHA256",
    "SHAKESPEARE_SPLITS",
    "SHAKESPEARE_URL",
    "load_tiny_shakespeare",
    "read_shakespeare_text",
    "read_tiny_shakespeare_tfds",
    "split_tfds",
]

SHAKESPEARE_FILE = "tiny_shakespeare/input.txt"
SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
SHAKESPEARE_SPLITS = ("train", "validation", "test")


def read_shakespeare_text(path: str | os.PathLike) -> str:
    """The whole file as one string (UTF-8, newlines kept as they are).

    Raises :class:`DataFormatError` naming the file and line for bytes that are not UTF-8, and for
    an empty file.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DataFormatError(
            f"{path}, line {line}: expected UTF-8 text, got byte {raw[error.start]:#04x} at offset {error.start}"
        ) from error
    if not text:
        raise DataFormatError(f"{path}: empty file, expected the Tiny Shakespeare text")
    return text


def split_tfds(text: str) -> dict[str, str]:
    """tensorflow-datasets' split: first ``int(0.9·n)`` characters train, then half of the rest
    validation, the remainder test (contiguous)."""
    if len(text) < 10:
        raise ValueError(f"text of {len(text)} characters is too short to split 90/5/5")
    cut = int(len(text) * 0.9)
    rest = text[cut:]
    half = int(len(rest) * 0.5)
    return {"train": text[:cut], "validation": rest[:half], "test": rest[half:]}


def read_tiny_shakespeare_tfds(data_dir_: str | os.PathLike | None = None, *, download: bool = False) -> dict[str, str]:
    """The three splits through ``tfds.data_source("tiny_shakespeare")`` (array_record, no TensorFlow).

    The dataset must have been prepared in ``data_dir_`` (default ``~/tensorflow_datasets``) with
    ``file_format="array_record"``; without ``download=True`` nothing is fetched and a missing copy
    raises ``FileNotFoundError`` explaining how to prepare it.
    """
    root = tfds_root("tiny_shakespeare", "tiny_shakespeare/*", data_dir_=data_dir_, download=download,
                     alternatives="call with download=True, or use load_tiny_shakespeare(source='local') (the shipped copy)")
    import tensorflow_datasets as tfds

    splits = {}
    for split in SHAKESPEARE_SPLITS:
        source = tfds.data_source("tiny_shakespeare", split=split, data_dir=str(root), download=download)
        if len(source) != 1:
            raise DataFormatError(f"{root}/tiny_shakespeare: split {split!r} has {len(source)} records, expected 1")
        text = source[0]["text"]
        splits[split] = text.decode("utf-8") if isinstance(text, bytes) else str(text)
    return splits


def load_tiny_shakespeare(
    source: str = "local", *, path: str | os.PathLike | None = None, download: bool = False
) -> dict[str, str]:
    """Tiny Shakespeare as ``{"train": str, "validation": str, "test": str}`` (tfds' 90/5/5 split).

    Args:
        source: ``"local"`` (the shipped file, or ``path``) or ``"tfds"``.
        path: for ``"local"`` another ``input.txt`` (used as is, not checksum-verified); for
            ``"tfds"`` the tfds data_dir.
        download: ``"local"``: fetch ``input.txt`` from char-rnn's GitHub into the data folder when
            it is missing (verified against :data:`SHAKESPEARE_SHA256`); ``"tfds"``: let tfds
            download and prepare. Off by default: nothing touches the network.
    """
    if source == "local":
        if path is not None:
            return split_tfds(read_shakespeare_text(path))
        if download and not (data_dir() / SHAKESPEARE_FILE).is_file():
            download_file(SHAKESPEARE_URL, data_dir() / SHAKESPEARE_FILE, sha256=SHAKESPEARE_SHA256)
        return split_tfds(read_shakespeare_text(dataset_path(SHAKESPEARE_FILE)))
    if source == "tfds":
        return read_tiny_shakespeare_tfds(path, download=download)
    raise ValueError(f"source must be 'local' or 'tfds', got {source!r}")
