"""Universal Dependencies English EWT (r2.16): sentences of (word form, UPOS tag), or of
(word form, UPOS tag, lemma) for the lemmatiser.

Multiword-token ranges (``3-4``) and empty nodes (``8.1``) are skipped, so each sentence holds
exactly its syntactic words: 12,544 / 2,001 / 2,077 sentences and 204,577 / 25,147 / 25,094 words
in train / dev / test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import conllu

from rnnkit.data.files import DataFormatError, dataset_path, open_text

__all__ = ["UD_SPLITS", "UPOS_TAGS", "LemmaSentence", "Sentence", "load_ud_ewt", "load_ud_ewt_lemmas", "read_conllu"]

UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)
UD_SPLITS = ("train", "dev", "test")
_ID = re.compile(r"^(\d+|\d+-\d+|\d+\.\d+)$")

#: one sentence: ``[(form, upos), ...]``
Sentence = list[tuple[str, str]]
#: one sentence with lemmas: ``[(form, upos, lemma), ...]``
LemmaSentence = list[tuple[str, str, str]]


def _blocks(path: Path):
    """Yield (first line number, text) for each sentence block, checking every token line."""
    lines: list[str] = []
    start = 1
    with open_text(path) as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                if lines:
                    yield start, "\n".join(lines) + "\n\n"
                    lines = []
                continue
            if not lines:
                start = lineno
            if not line.startswith("#"):
                fields = line.split("\t")
                if len(fields) != 10:
                    raise DataFormatError(
                        f"{path}, line {lineno}: expected 10 tab-separated CoNLL-U fields, got {len(fields)}: {line[:60]!r}"
                    )
                if not _ID.match(fields[0]):
                    raise DataFormatError(
                        f"{path}, line {lineno}: ID {fields[0]!r} is not N, N-M or N.M"
                    )
                if fields[0].isdigit() and fields[3] not in UPOS_TAGS:
                    raise DataFormatError(
                        f"{path}, line {lineno}: UPOS {fields[3]!r} is not one of the 17 UD tags"
                    )
            lines.append(line)
    if lines:
        yield start, "\n".join(lines) + "\n\n"


def read_conllu(path: str | os.PathLike, *, lemmas: bool = False) -> list[Sentence] | list[LemmaSentence]:
    """Sentences of ``(form, upos)`` from a ``.conllu`` (or ``.conllu.gz``) file; of
    ``(form, upos, lemma)`` with ``lemmas=True``.

    Raises:
        DataFormatError: a malformed token line (wrong field count, bad ID, unknown UPOS) or a
            truncated archive, naming the file and line. (EWT's lemma ``_`` is kept as written: it
            marks the pieces of split e-mail addresses.)
    """
    path = Path(path)
    fields = ("form", "upos", "lemma") if lemmas else ("form", "upos")
    sentences: list[Sentence] = []
    for start, block in _blocks(path):
        try:
            parsed = conllu.parse(block)
        except Exception as exc:  # conllu raises its own ParseException
            raise DataFormatError(f"{path}, sentence starting at line {start}: {exc}") from exc
        for tokenlist in parsed:
            words = [tuple(tok[field] for field in fields) for tok in tokenlist if isinstance(tok["id"], int)]
            if words:
                sentences.append(words)
    return sentences


def load_ud_ewt(split: str, *, root: str | os.PathLike | None = None) -> list[Sentence]:
    """One official split (``"train"``, ``"dev"``, ``"test"``) of the shipped EWT r2.16."""
    if split not in UD_SPLITS:
        raise ValueError(f"split must be one of {UD_SPLITS}, got {split!r}")
    return read_conllu(dataset_path(f"ud_ewt/en_ewt-ud-{split}.conllu.gz", root=root))


def load_ud_ewt_lemmas(split: str, *, root: str | os.PathLike | None = None) -> list[LemmaSentence]:
    """One split of the shipped EWT r2.16 as sentences of ``(form, upos, lemma)``; the same
    syntactic words as :func:`load_ud_ewt` (multiword-token ranges and empty nodes skipped)."""
    if split not in UD_SPLITS:
        raise ValueError(f"split must be one of {UD_SPLITS}, got {split!r}")
    return read_conllu(dataset_path(f"ud_ewt/en_ewt-ud-{split}.conllu.gz", root=root), lemmas=True)
