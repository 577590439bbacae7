import lzma
import tarfile

import pytest

from rnnkit.data import ChecksumError, DataFormatError, dataset_path, load_imdb, read_imdb_csv
from rnnkit.data import imdb as imdb_module
from rnnkit.data.files import download_file, sha256sum


def test_shipped_imdb_is_25k_25k_balanced():
    frame = load_imdb()
    assert frame.groupby("split").size().to_dict() == {"test": 25000, "train": 25000}
    assert frame.groupby(["split", "label"]).size().to_list() == [12500] * 4
    assert frame["text"].str.len().min() > 0


def write_acl_folder(root):
    reviews = {
        ("train", "pos"): {"3_10.txt": "A wonderful film.<br />Loved it", "1_8.txt": "Good."},
        ("train", "neg"): {"2_1.txt": "Dreadful."},
        ("test", "pos"): {"7_9.txt": "Great fun"},
        ("test", "neg"): {"5_2.txt": "Boring", "4_3.txt": "Meh."},
    }
    for (split, folder), files in reviews.items():
        (root / split / folder).mkdir(parents=True)
        for name, text in files.items():
            (root / split / folder / name).write_text(text)
    return root


def test_aclimdb_folder_written_by_test(tmp_path):
    frame = load_imdb("aclimdb", path=write_acl_folder(tmp_path / "aclImdb"))
    assert len(frame) == 6
    assert frame[["split", "label", "id", "rating"]].values.tolist() == [
        ["train", 0, 2, 1], ["train", 1, 1, 8], ["train", 1, 3, 10],
        ["test", 0, 4, 3], ["test", 0, 5, 2], ["test", 1, 7, 9],
    ]
    assert frame.loc[2, "text"] == "A wonderful film.<br />Loved it"


def test_aclimdb_bad_layout_and_names(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train/neg: folder not found"):
        (tmp_path / "a" / "train" / "pos").mkdir(parents=True)
        load_imdb("aclimdb", path=tmp_path / "a")
    root = write_acl_folder(tmp_path / "b")
    (root / "test" / "pos" / "notes.txt").write_text("x")
    with pytest.raises(DataFormatError, match=r"notes.txt: expected a review file named ID_RATING.txt"):
        load_imdb("aclimdb", path=root)


def test_aclimdb_offline_without_download_says_how(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_imdb("aclimdb", path=tmp_path)


def test_aclimdb_download_path_offline_with_file_url(tmp_path):
    source = write_acl_folder(tmp_path / "src" / "aclImdb")
    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="aclImdb")
    digest = sha256sum(archive)
    cache = tmp_path / "cache"
    folder = imdb_module.download_aclimdb(cache, url=archive.as_uri(), sha256=digest)
    assert folder == cache / "aclImdb"
    assert len(imdb_module.read_aclimdb(folder)) == 6
    assert not (cache / "aclImdb.partial").exists()


def test_download_never_replaces_a_good_file_with_a_bad_one(tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(b"good data")
    bad_source = tmp_path / "bad.bin"
    bad_source.write_bytes(b"tampered")
    destination = tmp_path / "dest.bin"
    destination.write_bytes(b"good data")
    # existing file with the right checksum: kept, nothing fetched
    assert download_file(bad_source.as_uri(), destination, sha256=sha256sum(good)) == destination
    # wrong checksum on the download: error, destination untouched, no temp files left
    destination.write_bytes(b"old but present")
    with pytest.raises(ChecksumError, match="left unchanged"):
        download_file(bad_source.as_uri(), destination, sha256=sha256sum(good))
    assert destination.read_bytes() == b"old but present"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.bin", "dest.bin", "good.bin"]
    # unreachable source: the good file survives
    with pytest.raises(OSError):
        download_file((tmp_path / "missing.bin").as_uri(), destination, sha256=sha256sum(good))
    assert destination.read_bytes() == b"old but present"


def test_tfds_missing_dataset_explains_how_to_prepare(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"download_and_prepare\(file_format='array_record'\)"):
        load_imdb("tfds", path=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing downloaded or created


def test_tfds_records_become_the_same_frame(tmp_path, monkeypatch):
    info = tmp_path / "imdb_reviews" / "plain_text" / "1.0.0"
    info.mkdir(parents=True)
    (info / "dataset_info.json").write_text("{}")
    (info / "imdb_reviews-train.array_record-00000-of-00001").write_bytes(b"")
    calls = []

    def fake_data_source(name, *, split, data_dir, download):
        calls.append((name, split, data_dir, download))
        return [{"text": f"{split} review".encode(), "label": 1}, {"text": b"bad", "label": 0}]

    import tensorflow_datasets as tfds

    monkeypatch.setattr(tfds, "data_source", fake_data_source)
    frame = load_imdb("tfds", path=tmp_path)
    assert calls == [("imdb_reviews", s, str(tmp_path), False) for s in ("train", "test")]
    assert frame.values.tolist() == [
        ["train review", 1, "train"], ["bad", 0, "train"], ["test review", 1, "test"], ["bad", 0, "test"],
    ]


def test_unknown_source():
    with pytest.raises(ValueError, match="source must be 'local', 'aclimdb' or 'tfds'"):
        load_imdb("kaggle")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("review,label,split\n", r"line 1: expected header \['text', 'label', 'split'\]"),
        ("text,label,split\nnice,1,train\nawful,2,test\n", r"line 3: label must be 0 or 1, got '2'"),
        ("text,label,split\nnice,1,valid\n", r"line 2: split must be 'train' or 'test'"),
        ('text,label,split\n"multi\nline",1,train\n,0,test\n', r"line 4: empty review text"),
        ("text,label,split\nnice,1\n", r"line 2: expected 3 fields"),
    ],
)
def test_bad_imdb_csv(tmp_path, text, message):
    path = tmp_path / "reviews.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=message):
        read_imdb_csv(path)


def test_truncated_xz_is_reported(tmp_path):
    payload = lzma.compress(("text,label,split\n" + "fine review,1,train\n" * 5000).encode())
    path = tmp_path / "reviews.csv.xz"
    path.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataFormatError, match=r"reviews.csv.xz: truncated or corrupt .xz file"):
        read_imdb_csv(path)


def test_checksum_mismatch_names_file(tmp_path):
    (tmp_path / "imdb").mkdir()
    (tmp_path / "imdb" / "imdb_reviews.csv.xz").write_bytes(b"not the real file")
    real = dataset_path("imdb/imdb_reviews.csv.xz", verify=False)
    (tmp_path / "SHA256SUMS").write_text(f"{sha256sum(real)}  imdb/imdb_reviews.csv.xz\n")
    with pytest.raises(ChecksumError, match=r"imdb_reviews.csv.xz: SHA-256 mismatch"):
        dataset_path("imdb/imdb_reviews.csv.xz", root=tmp_path)


def test_missing_shipped_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"imdb_reviews.csv.xz: dataset file not found"):
        dataset_path("imdb/imdb_reviews.csv.xz", root=tmp_path)


def test_read_checksums_rejects_malformed_line(tmp_path):
    from rnnkit.data import read_checksums

    (tmp_path / "SHA256SUMS").write_text("abc  file.txt\n")
    with pytest.raises(DataFormatError, match=r"SHA256SUMS, line 1: expected"):
        read_checksums(tmp_path / "SHA256SUMS")


def test_data_dir_env_override(tmp_path, monkeypatch):
    from rnnkit.data import data_dir

    monkeypatch.setenv("RNNKIT_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path
