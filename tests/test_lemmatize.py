"""rnnkit.tasks.lemmatize and the lemma loader, on hand-made corpora."""

import dataclasses
import gzip

import keras
import numpy as np
import pytest

from rnnkit import models
from rnnkit.data import load_ud_ewt, load_ud_ewt_lemmas, read_conllu
from rnnkit.losses import MaskedAccuracy, masked_sparse_crossentropy
from rnnkit.tasks import lemmatize

CONLLU = """# sent_id = 1
1	I	I	PRON	PRP	_	3	nsubj	_	_
2-3	don't	_	_	_	_	_	_	_	_
2	do	do	AUX	VBP	_	4	aux	_	_
3	n't	not	PART	RB	_	4	advmod	_	_
4	walked	walk	VERB	VBD	_	0	root	_	_
4.1	went	go	VERB	VBD	_	_	_	_	_
5	.	.	PUNCT	.	_	4	punct	_	_

# sent_id = 2
1	Dogs	dog	NOUN	NNS	_	0	root	_	_
2	went	go	VERB	VBD	_	1	dep	_	_

"""


def write_ewt(root, train, dev, test):
    folder = root / "ud_ewt"
    folder.mkdir(parents=True, exist_ok=True)
    for split, text in (("train", train), ("dev", dev), ("test", test)):
        with gzip.open(folder / f"en_ewt-ud-{split}.conllu.gz", "wt", encoding="utf-8") as handle:
            handle.write(text)


def sentence(*words):
    lines = [f"{i}\t{form}\t{lemma}\t{upos}\t_\t_\t0\tdep\t_\t_" for i, (form, upos, lemma) in enumerate(words, 1)]
    return "\n".join(lines) + "\n\n"


def test_lemma_loader_skips_ranges_and_empty_nodes(tmp_path):
    path = tmp_path / "tiny.conllu"
    path.write_text(CONLLU)
    assert read_conllu(path, lemmas=True) == [
        [("I", "PRON", "I"), ("do", "AUX", "do"), ("n't", "PART", "not"), ("walked", "VERB", "walk"),
         (".", "PUNCT", ".")],
        [("Dogs", "NOUN", "dog"), ("went", "VERB", "go")],
    ]
    assert read_conllu(path) == [[w[:2] for w in s] for s in read_conllu(path, lemmas=True)]


def test_shipped_ewt_lemmas_match_the_tagging_loader():
    lemmas = load_ud_ewt_lemmas("dev")
    assert [[w[:2] for w in s] for s in lemmas] == load_ud_ewt("dev")
    assert sum(map(len, lemmas)) == 25147
    assert ("was", "AUX", "be") in {w for s in lemmas for w in s}
    with pytest.raises(ValueError, match="split must be one of"):
        load_ud_ewt_lemmas("validation")


def test_lookup_baseline_and_copy():
    words = [("Went", "VERB", "go"), ("went", "VERB", "go"), ("went", "VERB", "wend"), ("saw", "VERB", "see"),
             ("saw", "NOUN", "saw"), ("leaves", "NOUN", "leaf"), ("leaves", "NOUN", "leave")]
    lookup = lemmatize.LookupLemmatizer(words)
    assert lookup.lemmatize("WENT", "VERB") == "go"  # key is lower-cased: 2 x go, 1 x wend
    assert lookup.lemmatize("saw", "NOUN") == "saw" and lookup.lemmatize("saw", "VERB") == "see"
    assert lookup.lemmatize("leaves", "NOUN") == "leaf"  # a 1:1 tie goes to the alphabetically first
    assert lookup.lemmatize("Blorps", "NOUN") == "Blorps"  # unseen: a copy of the form
    assert lookup.known("Saw", "VERB") and not lookup.known("saw", "ADJ")
    assert lookup.predict(["went", "x"], ["VERB", "X"]) == ["go", "x"]
    with pytest.raises(ValueError, match="no training words"):
        lemmatize.LookupLemmatizer([])


def test_edit_distance():
    assert lemmatize.edit_distance("walked", "walk") == 2
    assert lemmatize.edit_distance("went", "go") == 4
    assert lemmatize.edit_distance("kitten", "sitting") == 3
    assert lemmatize.edit_distance("", "abc") == 3 and lemmatize.edit_distance("same", "same") == 0


def test_load_data_encoding_scores_and_baselines_on_a_tiny_corpus(tmp_path):
    train = sentence(("Dogs", "NOUN", "dog"), ("walked", "VERB", "walk")) + sentence(("went", "VERB", "go"),
                                                                                    ("Dogs", "NOUN", "dog"))
    test = sentence(("cats", "NOUN", "cat"), ("went", "VERB", "go"), ("Dogs", "NOUN", "dog"), ("Rex", "PROPN", "Rex"))
    write_ewt(tmp_path, train, test, test)
    data = lemmatize.load_data(root=tmp_path)
    assert data.train.source.shape[0] == 3  # types: (Dogs, dog), (walked, walk), (went, go)
    vocab = data.vocab
    row = [i for i in range(3) if data.train.source[i, 0] == vocab["<VERB>"] and data.train.lengths[i] == 7][0]
    assert vocab.decode(data.train.source[row]) == ["<VERB>", *"walked"]
    assert vocab.decode(data.train.decoder_input[row]) == ["<s>", *"walk"]
    assert vocab.decode(data.train.target[row]) == [*"walk", "</s>"]
    words = data.words["test"]
    np.testing.assert_array_equal(words.unseen, [True, False, False, True])
    np.testing.assert_array_equal(words.sentence, [0, 0, 0, 0])
    assert lemmatize.score(words.forms, words) == {  # copy: only Rex is right
        "accuracy": 0.25, "seen_accuracy": 0.0, "unseen_accuracy": 0.5,
        "edit_distance": (1 + 4 + 2 + 0) / 4}  # cats>cat, went>go, Dogs>dog, Rex
    lookup = lemmatize.LookupLemmatizer(data.train_words)
    assert lookup.predict(words.forms, words.upos) == ["cats", "go", "dog", "Rex"]
    assert lemmatize.hybrid(["cat", "gone", "dg", "rex"], words, lookup) == ["cat", "go", "dog", "rex"]


def test_masked_loss_and_accuracy_ignore_wrong_labels_at_padding():
    """5 real target characters and 3 padded positions whose labels are wrong on purpose (as in
    tests/test_models.py for the tagger): loss and accuracy count the 5 real ones only, in fit's
    metric too."""
    keras.utils.set_random_seed(0)
    model = models.build_attention_seq2seq(12, 12, units=4, embedding_dim=3, attention="dot")
    model.compile(loss=masked_sparse_crossentropy, metrics=[MaskedAccuracy()])
    inputs = {"source": np.array([[4, 5, 6, 0], [7, 8, 0, 0]], dtype="int32"),
              "decoder_input": np.array([[2, 5, 6, 7], [2, 9, 0, 0]], dtype="int32")}
    logits = model.predict(inputs, verbose=0)
    predicted = logits.argmax(-1)
    real = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=bool)
    labels = np.where(real, predicted, 0)
    labels[0, 0] = 1 + (predicted[0, 0] % 11)  # one real character wrong: 4 of 5 right
    assert labels[0, 0] != predicted[0, 0]
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]
    expected_loss = float(-picked[real].mean())
    loss, accuracy = model.evaluate(inputs, labels, verbose=0, batch_size=2)
    assert accuracy == pytest.approx(4 / 5)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    history = model.fit(inputs, labels, epochs=1, batch_size=2, verbose=0)  # fit-time metric is masked too
    assert history.history["accuracy"][0] == pytest.approx(4 / 5)


def test_run_returns_validation_scores_and_history(tmp_path):
    words = [("walked", "VERB", "walk"), ("talked", "VERB", "talk"), ("Dogs", "NOUN", "dog"), ("went", "VERB", "go")]
    text = "".join(sentence(word) for word in words)
    write_ewt(tmp_path, text, text, text)
    data = lemmatize.load_data(root=tmp_path)
    config = dataclasses.replace(lemmatize.Config(), units=4, embedding_dim=3, epochs=2, widths=(8,))
    metrics = lemmatize.run(config, 0, data)
    assert set(metrics["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(metrics["history"]["loss"]) == metrics["epochs_run"] == 2
    assert 0.0 <= metrics["val_accuracy"] <= 1.0 and metrics["val_hybrid_accuracy"] == 1.0  # all seen: lookup
    assert not any(name.startswith("test") for name in metrics)
    with pytest.raises(ValueError, match="split must be one of"):
        lemmatize.evaluate(None, data, "valid")


def test_training_batches_keep_every_target_character_of_a_lemma_longer_than_its_form(tmp_path):
    # "wo" -> "will": the lemma (+ end token, 5 steps) is longer than the source (<AUX> + 2 chars = 3 steps)
    train = sentence(("wo", "AUX", "will"), ("walked", "VERB", "walk"))
    write_ewt(tmp_path, train, train, train)
    data = lemmatize.load_data(root=tmp_path)
    config = lemmatize.Config(widths=(16,))
    batch = lemmatize.batches(data.train, config, shuffle=False)[0]
    assert len(batch) == 2  # (inputs, targets): no per-step weights derived from the source lengths
    _, targets = batch
    row = [i for i in range(len(targets)) if data.vocab.decode(targets[i])[:4] == [*"will"]][0]
    assert data.vocab.decode(targets[row]) == [*"will", "</s>"]


def test_error_by_position_shares_count_each_position():
    errors = {"word": np.array([0, 0, 0, 1, 1]), "position": np.array([1, 2, 3, 1, 2]),
              "teacher_forcing": np.array([0, 0, 1, 0, 0], bool), "free_running": np.array([0, 1, 1, 1, 1], bool)}
    table = lemmatize.error_by_position(errors, positions=4)
    np.testing.assert_array_equal(table["count"], [2, 2, 1, 0])
    np.testing.assert_allclose(table["teacher_forcing"], [0, 0, 1, 0])
    np.testing.assert_allclose(table["free_running"], [0.5, 1, 1, 0])
    with pytest.raises(ValueError, match=r"positions must lie in 1\.\.2, got 1\.\.3"):
        lemmatize.error_by_position(errors, positions=2)


def test_character_errors_match_the_model_read_both_ways(tmp_path, monkeypatch):
    """One entry per target character (lemma + end token, cut at ``positions``). Teacher forcing:
    the model's own argmax over the true prefix. Free running: the greedy lemma, here replaced by
    known guesses, so every flag is known (a guess that ends early is wrong where it wrote nothing)."""
    words = [("walked", "VERB", "walk"), ("went", "VERB", "go")]
    text = "".join(sentence(word) for word in words)
    write_ewt(tmp_path, text, text, text)
    data = lemmatize.load_data(root=tmp_path)
    keras.utils.set_random_seed(0)
    model = lemmatize.build_model(dataclasses.replace(lemmatize.Config(), units=4, embedding_dim=3), data)
    monkeypatch.setattr(lemmatize, "predict_lemmas", lambda *args, **kwargs: ["wal", "gone"])
    errors = lemmatize.character_errors(model, data, words, positions=4)
    np.testing.assert_array_equal(errors["word"], [0, 0, 0, 0, 1, 1, 1])  # walk</s> is cut at 4; go</s> has 3
    np.testing.assert_array_equal(errors["position"], [1, 2, 3, 4, 1, 2, 3])
    # wal</s> vs walk: wrong at 4 (</s> for k); gone</s> vs go</s>: wrong at 3 (n for </s>)
    np.testing.assert_array_equal(errors["free_running"], [False, False, False, True, False, False, True])
    pairs = lemmatize.encode_pairs(words, data.vocab)
    forced = model.predict({"source": pairs.source, "decoder_input": pairs.decoder_input}, verbose=0).argmax(-1)
    expected = [data.vocab.tokens[forced[row, t]] != [*lemma, lemmatize.END][t]
                for row, (_, _, lemma) in enumerate(words) for t in range(min(4, len(lemma) + 1))]
    np.testing.assert_array_equal(errors["teacher_forcing"], expected)
    with pytest.raises(ValueError, match="positions must be >= 1"):
        lemmatize.character_errors(model, data, words, positions=0)
