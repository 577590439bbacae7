import gzip

import numpy as np
import pytest

from rnnkit.data import (
    UPOS_TAGS,
    DataFormatError,
    Vocabulary,
    glove_embedding,
    load_ud_ewt,
    nearest_neighbours,
    read_conllu,
    read_glove,
)

CONLLU = """# sent_id = 1
# text = I don't know.
1	I	I	PRON	PRP	_	3	nsubj	_	_
2-3	don't	_	_	_	_	_	_	_	_
2	do	do	AUX	VBP	_	4	aux	_	_
3	n't	not	PART	RB	_	4	advmod	_	_
4	know	know	VERB	VB	_	0	root	_	_
4.1	knows	know	VERB	VB	_	_	_	_	_
5	.	.	PUNCT	.	_	4	punct	_	_

# sent_id = 2
1	Hi	hi	INTJ	UH	_	0	root	_	_

"""


@pytest.mark.parametrize(
    ("split", "sentences", "words"),
    [("train", 12544, 204577), ("dev", 2001, 25147), ("test", 2077, 25094)],
)
def test_shipped_ewt_counts(split, sentences, words):
    data = load_ud_ewt(split)
    assert len(data) == sentences
    assert sum(len(sentence) for sentence in data) == words
    assert {tag for sentence in data for _, tag in sentence} <= set(UPOS_TAGS)


def test_ewt_has_all_17_tags_and_first_sentence():
    train = load_ud_ewt("train")
    assert len(UPOS_TAGS) == 17
    assert {tag for sentence in train for _, tag in sentence} == set(UPOS_TAGS)
    assert train[0][:3] == [("Al", "PROPN"), ("-", "PUNCT"), ("Zaman", "PROPN")]


def test_multiword_ranges_and_empty_nodes_are_skipped(tmp_path):
    path = tmp_path / "tiny.conllu"
    path.write_text(CONLLU)
    assert read_conllu(path) == [
        [("I", "PRON"), ("do", "AUX"), ("n't", "PART"), ("know", "VERB"), (".", "PUNCT")],
        [("Hi", "INTJ")],
    ]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("5\t.\t.\tPUNCT\t.\t_\t4", r"line 9: expected 10 tab-separated CoNLL-U fields, got 7"),
        ("x\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_", r"line 9: ID 'x' is not N, N-M or N.M"),
        ("5\t.\t.\tPUNC\t.\t_\t4\tpunct\t_\t_", r"line 9: UPOS 'PUNC' is not one of the 17 UD tags"),
    ],
)
def test_malformed_conllu_line(tmp_path, bad_line, message):
    lines = CONLLU.split("\n")
    lines[8] = bad_line  # line 9 of the file
    path = tmp_path / "bad.conllu"
    path.write_text("\n".join(lines))
    with pytest.raises(DataFormatError, match=message) as info:
        read_conllu(path)
    assert "bad.conllu" in str(info.value)


def test_truncated_gz(tmp_path):
    payload = gzip.compress(CONLLU.encode() * 200)
    path = tmp_path / "cut.conllu.gz"
    path.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataFormatError, match=r"cut.conllu.gz: truncated or corrupt .gz file"):
        read_conllu(path)


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be one of"):
        load_ud_ewt("validation")


def write_glove(tmp_path, lines, name="vectors.txt"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_glove_embedding_rows_and_coverage(tmp_path):
    path = write_glove(tmp_path, ["the 1 0 0", "cat 0 1 0", "dog 0 0.9 0.1"])
    vocab = Vocabulary.build([["the", "the", "the", "Cat", "zebra"]])
    emb = glove_embedding(vocab, path, dim=3)
    assert emb.matrix.shape == (5, 3) and emb.matrix.dtype == np.float32
    np.testing.assert_array_equal(emb.matrix[0], 0.0)  # padding row
    np.testing.assert_array_equal(emb.matrix[vocab["the"]], [1, 0, 0])
    np.testing.assert_array_equal(emb.matrix[vocab["Cat"]], [0, 1, 0])  # lower-cased lookup
    assert emb.found.tolist() == [False, False, True, True, False]
    assert emb.type_coverage == pytest.approx(2 / 3)
    assert emb.token_coverage == pytest.approx(4 / 5)
    assert nearest_neighbours("cat", read_glove(path), k=1)[0][0] == "dog"


def test_glove_dim_checked(tmp_path):
    path = write_glove(tmp_path, ["the 1 0 0", "cat 0 1"])
    with pytest.raises(DataFormatError, match=r"vectors.txt, line 1: vector has 3 values, expected dim=50"):
        read_glove(path, dim=50)
    with pytest.raises(DataFormatError, match=r"line 2: vector has 2 values, expected dim=3"):
        read_glove(path)
    bad = write_glove(tmp_path, ["the 1 x 0"], name="bad.txt")
    with pytest.raises(DataFormatError, match=r"bad.txt, line 1: non-numeric value"):
        read_glove(bad)


def test_shipped_glove():
    vectors = read_glove(dim=50)
    assert len(vectors) == 42577
    assert vectors["the"].shape == (50,)
    assert vectors["the"][0] == pytest.approx(0.418)
