"""Where the datasets live, how they are verified, and how downloads are written safely.

Every shipped file under ``data/`` is listed in ``data/SHA256SUMS``; :func:`dataset_path` checks a
file against that list before a loader reads it, so a truncated copy fails loudly here instead of
as a NaN three cells later.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO

__all__ = [
    "ChecksumError",
    "DataFormatError",
    "build_dir",
    "data_dir",
    "dataset_path",
    "download_file",
    "open_text",
    "read_checksums",
    "sha256sum",
    "tfds_root",
    "verify_sha256",
    "write_text_atomic",
]

#: ``data/`` of the repository this package was installed from (``pip install -e .``).
_REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"


class DataFormatError(ValueError):
    """A data file exists but does not hold what its loader expects (names file and line)."""


class ChecksumError(DataFormatError):
    """A file's SHA-256 differs from the expected one."""


def data_dir() -> Path:
    """The folder holding the datasets: ``$RNNKIT_DATA_DIR`` if set, else the repository's ``data/``."""
    return Path(os.environ.get("RNNKIT_DATA_DIR", _REPO_DATA_DIR))


def build_dir(name: str, *, env: str) -> Path:
    """``$env`` if set, else ``build/<name>`` in the repository (caches, results)."""
    return Path(os.environ.get(env) or _REPO_DATA_DIR.parent / "build" / name)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` so readers see the old file or the complete new one, never a part:
    a temporary file beside it, flushed to disk, then renamed over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return path


def sha256sum(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=64)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    return sha256sum(path)


def verify_sha256(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`ChecksumError` naming ``path`` if its SHA-256 is not ``expected``."""
    path = Path(path)
    stat = path.stat()
    actual = _cached_sha256(str(path), stat.st_size, stat.st_mtime_ns)
    if actual != expected.lower():
        raise ChecksumError(
            f"{path}: SHA-256 mismatch — expected {expected.lower()}, got {actual}. "
            "The file is damaged or a different version; restore it from git "
            "(`git checkout -- data/`) or download it again."
        )


def read_checksums(path: str | os.PathLike) -> dict[str, str]:
    """Parse a ``sha256sum``-style file into ``{relative path: hex digest}``."""
    path = Path(path)
    sums: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2 or len(parts[0]) != 64:
                raise DataFormatError(
                    f"{path}, line {lineno}: expected '<64 hex digits>  <relative path>', got {line!r}"
                )
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def dataset_path(relative: str, *, root: str | os.PathLike | None = None, verify: bool = True) -> Path:
    """Absolute path of a shipped dataset file, checked to exist and to match ``SHA256SUMS``.

    Args:
        relative: path below the data folder, e.g. ``"aapl/AAPL_2013-07-23_2023-07-21.csv"``.
        root: data folder; default :func:`data_dir`.
        verify: compare the file against ``<root>/SHA256SUMS`` (when that file lists it).
    """
    root = Path(root) if root is not None else data_dir()
    path = root / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: dataset file not found. The course ships it in the repository's data/ folder; "
            "set RNNKIT_DATA_DIR if your copy lives elsewhere."
        )
    sums_file = root / "SHA256SUMS"
    if verify and sums_file.is_file():
        expected = read_checksums(sums_file).get(relative)
        if expected is not None:
            verify_sha256(path, expected)
    return path


@contextmanager
def open_text(path: str | os.PathLike, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Open a plain, ``.gz`` or ``.xz`` text file; a missing file raises ``FileNotFoundError``.

    A truncated or corrupt archive surfaces as :class:`DataFormatError` naming the file, both
    when it is opened and while it is read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    suffix = path.suffix.lower()
    opener = {".gz": gzip.open, ".xz": lzma.open}.get(suffix)
    try:
        if opener is None:
            with open(path, encoding=encoding, newline="") as handle:
                yield handle
        else:
            with opener(path, "rt", encoding=encoding, newline="") as handle:
                yield handle
    except (EOFError, OSError, lzma.LZMAError, gzip.BadGzipFile) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataFormatError(
            f"{path}: truncated or corrupt {suffix or 'text'} file ({type(exc).__name__}: {exc})"
        ) from exc


def download_file(url: str, destination: str | os.PathLike, *, sha256: str) -> Path:
    """Download ``url`` to ``destination`` atomically, verified against ``sha256``.

    The bytes go to a temporary file beside ``destination``; only after the checksum matches is it
    renamed over ``destination``. A failed or corrupt download therefore never touches a good file
    that is already there. An existing ``destination`` with the right checksum is kept as is.
    Works with ``file://`` URLs, which is how the tests exercise it offline.
    """
    destination = Path(destination)
    if destination.is_file():
        try:
            verify_sha256(destination, sha256)
            return destination
        except ChecksumError:
            pass  # stale or damaged: download again, replace only once verified
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=destination.name + ".", suffix=".part", dir=destination.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url) as response:
            shutil.copyfileobj(response, out)
        actual = sha256sum(tmp)
        if actual != sha256.lower():
            raise ChecksumError(
                f"{url}: downloaded file's SHA-256 is {actual}, expected {sha256.lower()}; "
                f"{destination} was left unchanged"
            )
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)
    return destination


def tfds_root(name: str, pattern: str, *, data_dir_: str | os.PathLike | None, download: bool,
              alternatives: str) -> Path:
    """The tensorflow-datasets folder holding ``name``, checked before tfds is asked for it.

    ``pattern`` globs the prepared versions below the folder (e.g. ``"imdb_reviews/plain_text/*"``).
    Without ``download`` and without a prepared ``array_record`` copy, raises ``FileNotFoundError``
    saying how to prepare one (offline, tfds would otherwise retry for minutes); ``alternatives``
    ends the message with what else the caller can do.
    """
    root = Path(data_dir_ if data_dir_ is not None else Path.home() / "tensorflow_datasets")
    prepared = sorted(root.glob(f"{pattern}/dataset_info.json"))
    has_records = any(list(info.parent.glob("*.array_record*")) for info in prepared)
    if not download and not has_records:
        raise FileNotFoundError(
            f"{root}/{name}: no prepared array_record copy of '{name}'. Prepare it once, "
            "online and with TensorFlow installed, e.g.\n"
            "  python -c \"import tensorflow_datasets as tfds; "
            f"tfds.builder('{name}', data_dir='{root}')"
            ".download_and_prepare(file_format='array_record')\"\n"
            f"or {alternatives}."
        )
    return root
