"""The Large Movie Review Dataset (Maas et al., 2011): 25,000 train + 25,000 test reviews.

Three sources, one result (a frame with columns ``text, label, split``):

* ``"local"`` (default): the shipped ``data/imdb/imdb_reviews.csv.xz``, checksum-verified;
* ``"aclimdb"``: a folder in Stanford's layout (``train/pos/ID_RATING.txt`` ...), downloaded
  first only when ``download=True`` is passed;
* ``"tfds"``: ``tfds.data_source("imdb_reviews")`` on an array_record dataset that was prepared
  beforehand (reads without TensorFlow; never downloads unless asked).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tarfile
from pathlib import Path

import pandas as pd

from rnnkit.data.files import (
    DataFormatError,
    data_dir,
    dataset_path,
    download_file,
    open_text,
    tfds_root,
)

__all__ = [
    "ACLIMDB_SHA256",
    "ACLIMDB_URL",
    "IMDB_FILE",
    "download_aclimdb",
    "load_imdb",
    "read_aclimdb",
    "read_imdb_csv",
    "read_imdb_tfds",
]

IMDB_FILE = "imdb/imdb_reviews.csv.xz"
ACLIMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
ACLIMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
_REVIEW_FILE = re.compile(r"^(\d+)_(\d+)\.txt$")
_SPLITS = ("train", "test")


def read_imdb_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read a ``text,label,split`` CSV (plain or ``.xz``/``.gz``), validating every row.

    Returns:
        Frame with ``text: str``, ``label: int64`` (0 negative, 1 positive), ``split: str``
        (``train``/``test``), in file order.
    """
    path = Path(path)
    csv.field_size_limit(1 << 24)
    texts, labels, splits = [], [], []
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        expected = ["text", "label", "split"]
        if header != expected:
            raise DataFormatError(f"{path}, line 1: expected header {expected}, got {header}")
        for record in reader:
            line = reader.line_num
            if len(record) != 3:
                raise DataFormatError(f"{path}, line {line}: expected 3 fields (text,label,split), got {len(record)}")
            text, label, split = record
            if label not in ("0", "1"):
                raise DataFormatError(f"{path}, line {line}: label must be 0 or 1, got {label!r}")
            if split not in _SPLITS:
                raise DataFormatError(f"{path}, line {line}: split must be 'train' or 'test', got {split!r}")
            if not text.strip():
                raise DataFormatError(f"{path}, line {line}: empty review text")
            texts.append(text)
            labels.append(int(label))
            splits.append(split)
    if not texts:
        raise DataFormatError(f"{path}: no reviews after the header")
    return pd.DataFrame({"text": texts, "label": labels, "split": splits})


def read_aclimdb(root: str | os.PathLike) -> pd.DataFrame:
    """Read Stanford's ``aclImdb`` folder (``{train,test}/{pos,neg}/ID_RATING.txt``).

    Returns the same frame as :func:`read_imdb_csv` plus ``id`` and ``rating`` columns, sorted by
    (split, label, id) so the order never depends on the file system.
    """
    root = Path(root)
    rows = []
    for split in _SPLITS:
        for label, folder in ((0, "neg"), (1, "pos")):
            directory = root / split / folder
            if not directory.is_dir():
                raise FileNotFoundError(
                    f"{directory}: folder not found; expected Stanford's aclImdb layout "
                    "(train/pos, train/neg, test/pos, test/neg with ID_RATING.txt files)"
                )
            for file in directory.iterdir():
                match = _REVIEW_FILE.match(file.name)
                if match is None:
                    raise DataFormatError(f"{file}: expected a review file named ID_RATING.txt")
                text = file.read_text(encoding="utf-8")
                if not text.strip():
                    raise DataFormatError(f"{file}: empty review text")
                rows.append((text, label, split, int(match[1]), int(match[2])))
    frame = pd.DataFrame(rows, columns=["text", "label", "split", "id", "rating"])
    frame["_split_order"] = frame["split"].map({"train": 0, "test": 1})
    frame = frame.sort_values(["_split_order", "label", "id"], kind="stable").drop(columns="_split_order")
    return frame.reset_index(drop=True)


def download_aclimdb(
    cache_dir: str | os.PathLike, *, url: str = ACLIMDB_URL, sha256: str = ACLIMDB_SHA256
) -> Path:
    """Download and extract ``aclImdb_v1.tar.gz`` into ``cache_dir``; returns ``cache_dir/aclImdb``.

    Only called when a user asks for it. The archive is verified against ``sha256`` before it
    replaces anything (see :func:`rnnkit.data.files.download_file`); extraction goes to a
    temporary folder renamed into place at the end, so an interrupted run leaves no half folder.
    """
    cache_dir = Path(cache_dir)
    target = cache_dir / "aclImdb"
    if target.is_dir():
        return target
    archive = download_file(url, cache_dir / "aclImdb_v1.tar.gz", sha256=sha256)
    staging = cache_dir / "aclImdb.partial"
    if staging.exists():
        shutil.rmtree(staging)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(staging, filter="data")
    os.replace(staging / "aclImdb", target)
    staging.rmdir()
    return target


def read_imdb_tfds(data_dir_: str | os.PathLike | None = None, *, download: bool = False) -> pd.DataFrame:
    """Read ``imdb_reviews`` through ``tfds.data_source`` (array_record, no TensorFlow needed).

    The dataset must have been prepared in ``data_dir_`` (default ``~/tensorflow_datasets``) with
    ``file_format="array_record"``. Without ``download=True`` nothing is fetched: a missing
    dataset raises ``FileNotFoundError`` explaining how to prepare it (offline, tfds would
    otherwise retry for minutes).
    """
    root = tfds_root("imdb_reviews", "imdb_reviews/plain_text/*", data_dir_=data_dir_, download=download,
                     alternatives="call read_imdb_tfds(download=True), or use load_imdb(source='local') (the shipped copy)")
    import tensorflow_datasets as tfds

    frames = []
    for split in _SPLITS:
        source = tfds.data_source("imdb_reviews", split=split, data_dir=str(root), download=download)
        records = [source[i] for i in range(len(source))]
        frames.append(
            pd.DataFrame(
                {
                    "text": [_as_str(record["text"]) for record in records],
                    "label": [int(record["label"]) for record in records],
                    "split": split,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _as_str(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def load_imdb(
    source: str = "local",
    *,
    path: str | os.PathLike | None = None,
    download: bool = False,
) -> pd.DataFrame:
    """All 50,000 labelled reviews as a frame with ``text, label, split``.

    Args:
        source: ``"local"`` (shipped csv.xz), ``"aclimdb"`` (Stanford folder) or ``"tfds"``.
        path: for ``"local"`` another CSV file; for ``"aclimdb"`` the ``aclImdb`` folder or a
            cache folder to download into; for ``"tfds"`` the tfds data_dir.
        download: allow network access (``"aclimdb"``, ``"tfds"``); off by default.
    """
    if source == "local":
        return read_imdb_csv(path if path is not None else dataset_path(IMDB_FILE))
    if source == "aclimdb":
        folder = Path(path) if path is not None else data_dir() / "downloads"
        if (folder / "train").is_dir():
            return read_aclimdb(folder)
        if (folder / "aclImdb").is_dir():
            return read_aclimdb(folder / "aclImdb")
        if not download:
            raise FileNotFoundError(
                f"{folder}: no aclImdb folder here. Pass path= to an extracted aclImdb folder, or "
                "download=True to fetch aclImdb_v1.tar.gz (84 MB) into it."
            )
        return read_aclimdb(download_aclimdb(folder))
    if source == "tfds":
        return read_imdb_tfds(path, download=download)
    raise ValueError(f"source must be 'local', 'aclimdb' or 'tfds', got {source!r}")
