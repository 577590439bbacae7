"""Dataset loaders. Plain Python / NumPy / pandas results; nothing here imports Keras."""

from rnnkit.data.files import (
    ChecksumError,
    DataFormatError,
    data_dir,
    dataset_path,
    download_file,
    read_checksums,
    sha256sum,
    verify_sha256,
)
from rnnkit.data.glove import GloveEmbedding, glove_embedding, nearest_neighbours, read_glove
from rnnkit.data.imdb import (
    download_aclimdb,
    load_imdb,
    read_aclimdb,
    read_imdb_csv,
    read_imdb_tfds,
)
from rnnkit.data.shakespeare import load_tiny_shakespeare, read_tiny_shakespeare_tfds
from rnnkit.data.stock import (
    RETURN_FEATURES,
    StockSplits,
    add_return_features,
    load_aapl,
    load_stock_csv,
    make_windows,
    split_windows,
)
from rnnkit.data.synthetic import adding_task, reversal_task
from rnnkit.data.text import PAD, UNK, Vocabulary, pad_sequences, tokenize
from rnnkit.data.ud import UPOS_TAGS, load_ud_ewt, load_ud_ewt_lemmas, read_conllu

__all__ = [
    "PAD",
    "UNK",
    "UPOS_TAGS",
    "ChecksumError",
    "DataFormatError",
    "GloveEmbedding",
    "RETURN_FEATURES",
    "StockSplits",
    "add_return_features",
    "Vocabulary",
    "adding_task",
    "data_dir",
    "dataset_path",
    "download_aclimdb",
    "download_file",
    "glove_embedding",
    "load_aapl",
    "load_imdb",
    "load_stock_csv",
    "load_tiny_shakespeare",
    "load_ud_ewt",
    "load_ud_ewt_lemmas",
    "make_windows",
    "nearest_neighbours",
    "pad_sequences",
    "read_aclimdb",
    "read_checksums",
    "read_conllu",
    "read_glove",
    "read_imdb_csv",
    "read_imdb_tfds",
    "read_tiny_shakespeare_tfds",
    "reversal_task",
    "sha256sum",
    "split_windows",
    "tokenize",
    "verify_sha256",
]
