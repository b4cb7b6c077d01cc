"""The data side of examples/cifar10_cnn.py, run with the host Python (numpy only, no Keras).

Batches are written in the exact byte format of the official CIFAR-10 python-version files: Python 2
pickles (protocol 2, byte-string keys, a numpy array pickled as Python 2 numpy does), which Python 3
must read with ``encoding='bytes'``.
"""

import importlib.util
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest

from theanogpu.resources import examples_dir

SCRIPT = examples_dir() / "cifar10_cnn.py"


@pytest.fixture(scope="module")
def ex():
    spec = importlib.util.spec_from_file_location("cifar10_cnn_under_test", str(SCRIPT))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------------
# Python 2 pickles, byte for byte (pickle opcodes, protocol 2)


def _str(text) -> bytes:
    """A Python 2 str: SHORT_BINSTRING or BINSTRING (Python 3 never writes these)."""
    raw = text if isinstance(text, bytes) else text.encode("ascii")
    if len(raw) < 256:
        return b"U" + bytes([len(raw)]) + raw
    return b"T" + struct.pack("<I", len(raw)) + raw


def _int(value: int) -> bytes:
    return b"K" + bytes([value]) if 0 <= value < 256 else b"J" + struct.pack("<i", value)


def _py2_uint8_array(data: np.ndarray) -> bytes:
    """``pickle.dumps(array, 2)`` as Python 2 numpy writes a 2-D uint8 array."""
    assert data.dtype == np.uint8 and data.ndim == 2
    dtype = (b"cnumpy\ndtype\n" + _str("u1") + _int(0) + _int(1) + b"\x87R"
             + b"(" + _int(3) + _str("|") + b"NNN" + _int(-1) + _int(-1) + _int(0) + b"tb")
    shape = _int(data.shape[0]) + _int(data.shape[1]) + b"\x86"
    return (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + _int(0) + b"\x85"
            + _str("b") + b"\x87R"
            + b"(" + _int(1) + shape + dtype + b"\x89" + _str(data.tobytes()) + b"tb")


def py2_batch(data: np.ndarray, labels, name="training batch 1 of 5") -> bytes:
    labels_list = b"](" + b"".join(_int(int(v)) for v in labels) + b"e"
    filenames = b"](" + b"".join(_str("img_%d.png" % i) for i in range(len(labels))) + b"e"
    return (b"\x80\x02}(" + _str("batch_label") + _str(name) + _str("labels") + labels_list
            + _str("data") + _py2_uint8_array(data) + _str("filenames") + filenames + b"u.")


def write_batches(directory, per_batch=4, seed=0, test=4):
    """Official-format files data_batch_1..5 and test_batch; returns {name: (data, labels)}."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(seed)
    written = {}
    for name, count in [("data_batch_%d" % i, per_batch) for i in range(1, 6)] + [("test_batch", test)]:
        data = rng.randint(0, 256, size=(count, 3072)).astype(np.uint8)
        labels = rng.randint(0, 10, size=count)
        (directory / name).write_bytes(py2_batch(data, labels, name))
        written[name] = (data, labels)
    return written


def test_the_handmade_pickle_is_what_python2_numpy_writes():
    # Sanity check of the helper itself: Python 3 reads it back to the same array and labels.
    data = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    batch = pickle.loads(py2_batch(data, [3, 7]), encoding="bytes")
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"labels"] == [3, 7]
    assert batch[b"data"].dtype == np.uint8
    np.testing.assert_array_equal(batch[b"data"], data)


# --------------------------------------------------------------------------------------------------
# Reading real-format batches


def test_load_batch_reads_python2_pickles_channels_first(ex, tmp_path):
    written = write_batches(tmp_path, per_batch=3)
    x, y = ex.load_batch(str(tmp_path / "data_batch_2"))
    data, labels = written["data_batch_2"]
    assert x.shape == (3, 3, 32, 32) and x.dtype == np.uint8
    np.testing.assert_array_equal(y, labels)
    # A row is 1024 red, then 1024 green, then 1024 blue values, each 32x32 row-major.
    assert x[1, 0, 0, 1] == data[1, 1]
    assert x[1, 0, 1, 0] == data[1, 32]
    assert x[1, 1, 0, 0] == data[1, 1024]
    assert x[2, 2, 31, 31] == data[2, 3071]


def test_load_batch_also_reads_python3_pickles_with_str_keys(ex, tmp_path):
    data = np.full((2, 3072), 9, dtype=np.uint8)
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": data, "labels": [1, 2]}, protocol=2))
    x, y = ex.load_batch(str(path))
    assert list(y) == [1, 2] and int(x.max()) == 9


@pytest.mark.parametrize("content, expected", [
    (b"not a pickle at all", "not a CIFAR-10 python-version batch"),
    (pickle.dumps({b"labels": [1]}, protocol=2), "KeyError"),
    (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]}, protocol=2), "expected (n, 3072)"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, protocol=2), "1 labels"),
    (pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}, protocol=2), "labels outside 0..9"),
])
def test_load_batch_rejects_what_is_not_a_batch(ex, tmp_path, content, expected):
    path = tmp_path / "data_batch_1"
    path.write_bytes(content)
    with pytest.raises(ex.DataError) as err:
        ex.load_batch(str(path))
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_get_data_from_dir_cuts_to_samples_and_reads_only_needed_files(ex, tmp_path):
    written = write_batches(tmp_path / "cifar", per_batch=4, test=5)
    # Files not needed for 10 samples are never opened: a broken fourth batch does not matter.
    (tmp_path / "cifar" / "data_batch_4").write_bytes(b"garbage")
    (x_train, y_train), (x_test, y_test), info = ex.get_data(str(tmp_path / "cifar"), 10, seed=1, cache_dirs=[])
    assert info == {"source": "cifar10", "path": str(tmp_path / "cifar"), "label": "CIFAR-10",
                    "train": 10, "test": 2}
    assert x_train.shape == (10, 3, 32, 32) and x_test.shape == (2, 3, 32, 32)
    expected = np.concatenate([written["data_batch_1"][1], written["data_batch_2"][1],
                               written["data_batch_3"][1][:2]])
    np.testing.assert_array_equal(y_train, expected)
    np.testing.assert_array_equal(y_test, written["test_batch"][1][:2])


def test_get_data_takes_everything_there_is_when_samples_asks_for_more(ex, tmp_path):
    write_batches(tmp_path, per_batch=2, test=3)
    _, _, info = ex.get_data(str(tmp_path), 500, seed=1, cache_dirs=[])
    assert (info["train"], info["test"]) == (10, 3)
    _, _, info = ex.get_data(str(tmp_path), None, seed=1, cache_dirs=[])
    assert (info["train"], info["test"]) == (10, 3)


def test_data_dir_may_be_the_parent_of_cifar_10_batches_py(ex, tmp_path):
    write_batches(tmp_path / "datasets" / "cifar-10-batches-py")
    _, _, info = ex.get_data(str(tmp_path / "datasets"), 4, seed=1, cache_dirs=[])
    assert info["source"] == "cifar10"
    assert info["path"] == str(tmp_path / "datasets" / "cifar-10-batches-py")


def test_explicit_data_dir_that_is_missing_or_incomplete_is_an_error_not_synthetic(ex, tmp_path):
    with pytest.raises(ex.DataError, match="no such directory"):
        ex.get_data(str(tmp_path / "nope"), 4, seed=1, cache_dirs=[])
    write_batches(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    (tmp_path / "test_batch").unlink()
    with pytest.raises(ex.DataError, match="missing data_batch_3, test_batch"):
        ex.get_data(str(tmp_path), 4, seed=1, cache_dirs=[])


def test_keras_cache_is_used_when_no_data_dir_is_given(ex, tmp_path):
    empty, cache = tmp_path / "empty", tmp_path / "cache" / "cifar-10-batches-py"
    empty.mkdir()
    write_batches(cache)
    _, _, info = ex.get_data(None, 4, seed=1, cache_dirs=[str(empty), str(cache)])
    assert info["source"] == "cifar10" and info["path"] == str(cache)


def test_keras_cache_dirs_follow_keras_home_then_home(ex, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    dirs = ex.keras_cache_dirs()
    assert dirs[:2] == [str(tmp_path / "kh" / "datasets" / "cifar-10-batches-py"),
                        str(tmp_path / "home" / ".keras" / "datasets" / "cifar-10-batches-py")]
    monkeypatch.delenv("KERAS_HOME")
    assert ex.keras_cache_dirs()[0] == str(tmp_path / "home" / ".keras" / "datasets" / "cifar-10-batches-py")


# --------------------------------------------------------------------------------------------------
# Synthetic data


def test_no_data_anywhere_gives_labelled_synthetic_data(ex):
    (x_train, y_train), (x_test, y_test), info = ex.get_data(None, 100, seed=3, cache_dirs=[])
    assert info == {"source": "synthetic", "path": None, "seed": 3, "train": 100, "test": 20,
                    "label": "SYNTHETIC data (CIFAR-10 not found locally)"}
    assert x_train.shape == (100, 3, 32, 32) and x_train.dtype == np.uint8
    assert x_test.shape == (20, 3, 32, 32)
    assert y_train.min() >= 0 and y_train.max() <= 9


def test_synthetic_data_is_deterministic_per_seed(ex):
    a = ex.synthetic_cifar10(50, 10, seed=7)
    b = ex.synthetic_cifar10(50, 10, seed=7)
    c = ex.synthetic_cifar10(50, 10, seed=8)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[1][1], b[1][1])
    assert not np.array_equal(a[0][0], c[0][0])


def test_synthetic_labels_are_learnable_but_not_trivial(ex):
    (x_train, y_train), (x_test, y_test) = ex.synthetic_cifar10(2000, 500, seed=1)
    assert set(np.unique(y_train)) == set(range(10))
    flat_train = x_train.reshape(len(x_train), -1).astype(np.float64)
    flat_test = x_test.reshape(len(x_test), -1).astype(np.float64)
    # The simplest learner (nearest class mean) does far better than chance: a CNN can learn it ...
    means = np.stack([flat_train[y_train == k].mean(axis=0) for k in range(10)])
    distances = (means ** 2).sum(axis=1)[None, :] - 2 * flat_test @ means.T
    assert (distances.argmin(axis=1) == y_test).mean() > 0.8
    # ... while one image alone is noisy: single pixels say little about the class.
    pixel = flat_test[:, 0]
    assert np.corrcoef(pixel, means[y_test, 0])[0, 1] < 0.8


def test_full_size_defaults_match_cifar10(ex):
    assert ex.train_test_sizes(None) == (50000, 10000)
    assert ex.train_test_sizes(256) == (256, 51)
    assert ex.train_test_sizes(3) == (3, 1)


# --------------------------------------------------------------------------------------------------
# What Keras gets, and the machine-readable lines


def test_prepare_scales_transposes_and_one_hot_encodes(ex):
    images = np.zeros((2, 3, 32, 32), dtype=np.uint8)
    images[1, 2, 5, 7] = 255
    x, y = ex.prepare(images, np.array([0, 9]), channels_last=False)
    assert x.dtype == np.float32 and x.shape == (2, 3, 32, 32) and x[1, 2, 5, 7] == 1.0
    assert y.dtype == np.float32 and y.tolist()[1] == [0.0] * 9 + [1.0]
    x, _ = ex.prepare(images, np.array([0, 9]), channels_last=True)
    assert x.shape == (2, 32, 32, 3) and x[1, 5, 7, 2] == 1.0 and x.flags["C_CONTIGUOUS"]


def test_emit_prints_one_flushed_sorted_json_line(ex, capsys):
    ex.emit("data", {"train": 1, "source": "synthetic", "path": None})
    out = capsys.readouterr().out
    assert out == 'theanogpu-data: {"path": null, "source": "synthetic", "train": 1}\n'


@pytest.mark.parametrize("word, expected", [
    ("gpu", "gpu"), ("gpu0", "gpu"), ("cuda", "gpu"), ("cuda1", "gpu"), ("opencl0:0", "gpu"), ("GPU", "gpu"),
    ("cpu", "cpu"), ("", None), (None, None), ("tpu", None)])
def test_device_words(ex, word, expected):
    assert ex._gpu_word(word) == expected


def test_requested_device_of_modern_backends_comes_from_the_environment(ex, monkeypatch):
    monkeypatch.setenv("THEANOGPU_REQUESTED_DEVICE", "gpu")
    assert ex.device_report("cntk") == {"backend": "cntk", "device": None, "name": None, "detail": {},
                                        "requested": "gpu"}
    monkeypatch.delenv("THEANOGPU_REQUESTED_DEVICE")
    assert ex.device_report("cntk")["requested"] is None


class _Config:
    def __init__(self, device, cnmem=0.0):
        self.device = device
        self.init_gpu_device = ""
        self.floatX = "float32"
        self.lib = type("lib", (), {"cnmem": cnmem})()


def _fake_theano(monkeypatch, device, cuda_enabled, device_number, cnmem=0.0):
    """A Theano whose old CUDA backend is in the given state: the GPU is the one thing stubbed here."""
    import types

    theano = types.ModuleType("theano")
    theano.__version__ = "0.8.2"
    theano.config = _Config(device, cnmem)
    cuda = types.ModuleType("theano.sandbox.cuda")
    cuda.cuda_enabled = cuda_enabled

    def use():
        pass

    use.device_number = device_number
    cuda.use = use
    cuda.active_device_name = lambda: "GeForce GTX 1060 6GB"
    monkeypatch.setitem(sys.modules, "theano", theano)
    monkeypatch.setitem(sys.modules, "theano.sandbox.cuda", cuda)
    for name in ("theano.gpuarray", "theano.sandbox.gpuarray"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_theano_old_backend_on_a_gpu_reports_the_gpu(ex, monkeypatch):
    _fake_theano(monkeypatch, "gpu", True, 0, cnmem=0.8)
    report = ex.device_report("theano")
    assert (report["device"], report["requested"], report["name"]) == ("gpu", "gpu", "GeForce GTX 1060 6GB")
    assert report["detail"]["cnmem"] == 0.8 and report["detail"]["config_device"] == "gpu"


def test_theano_old_backend_fallback_is_reported_as_cpu(ex, monkeypatch):
    # nvcc not found: Theano keeps config.device == 'gpu' but never enables CUDA.
    _fake_theano(monkeypatch, "gpu", False, None)
    report = ex.device_report("theano")
    assert (report["device"], report["requested"], report["name"]) == ("cpu", "gpu", None)
    # Init failed after a device number was picked: still the CPU.
    _fake_theano(monkeypatch, "gpu", False, 0)
    assert ex.device_report("theano")["device"] == "cpu"


# --------------------------------------------------------------------------------------------------
# Command line (only the paths that end before Keras is imported can run on the host)


def test_bad_options_exit_2(ex):
    for argv in (["--samples", "0"], ["--epochs", "x"], ["--verbose", "3"], ["--batch-size", "-1"]):
        with pytest.raises(SystemExit) as exit_info:
            ex.parse_args(argv)
        assert exit_info.value.code == 2


def test_defaults(ex):
    args = ex.parse_args([])
    assert (args.epochs, args.samples, args.data, args.batch_size, args.verbose) == (5, None, None, 32, 1)


def test_missing_data_dir_is_one_line_exit_2_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path / "missing"), "--samples", "8"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "no such directory" in proc.stderr and str(tmp_path / "missing") in proc.stderr
    assert proc.stdout == ""
