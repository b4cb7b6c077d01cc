#!/usr/bin/env python
"""Train the classic Keras CIFAR-10 CNN (the keras/examples/cifar10_cnn.py model) and report honestly.

One file that runs unchanged on Keras 1.2.2/Theano 0.8, Keras 2.0.8/Theano 0.9, Keras 2.3.1/Theano 1.0
and Keras 3 (torch, jax or tensorflow backend), under Python 2.7 and 3.6+. API differences are
handled by feature detection, never by asking the user which Keras this is.

Data, in this order: --data DIR (the official "python version" batches data_batch_1..5 and
test_batch), the Keras cache ~/.keras/datasets/cifar-10-batches-py, else SYNTHETIC data of the same
shape, said so on stdout. Nothing is ever downloaded.

Besides Keras's own output the script prints three machine-readable lines (JSON, sorted keys):
  theanogpu-data: {...}     where the data came from and how many samples
  theanogpu-device: {...}   the backend and the device it really computes on
  theanogpu-result: {...}   after training: epochs, test accuracy and loss, wall times
"""

from __future__ import division, print_function

import argparse
import json
import os
import pickle
import sys
import time

import numpy as np

NUM_CLASSES = 10
TRAIN_TOTAL = 50000
TEST_TOTAL = 10000
BATCH_SIZE = 10000  # images per official batch file
IMAGE_SHAPE = (3, 32, 32)  # as stored in the batch files: channels first
TRAIN_FILES = ["data_batch_%d" % i for i in range(1, 6)]
TEST_FILE = "test_batch"
CACHE_SUBDIR = "cifar-10-batches-py"
SYNTHETIC_LABEL = "SYNTHETIC data (CIFAR-10 not found locally)"
# The Keras example's optimiser settings.
LEARNING_RATE = 0.0001
DECAY = 1e-6


class DataError(Exception):
    """Bad data input: reported as one line on stderr with exit status 2."""


# --------------------------------------------------------------------------------------------------
# Data (numpy only, so it can be tested without Keras)


def train_test_sizes(samples):
    """(train, test) sample counts: all of CIFAR-10, or *samples* and a test set one fifth of it."""
    if samples is None:
        return TRAIN_TOTAL, TEST_TOTAL
    # CIFAR-10's own train:test ratio is 5:1; at least one test image keeps validation meaningful.
    return samples, max(1, samples // 5)


def has_batches(directory):
    """True when *directory* holds every official python-version batch file."""
    return all(os.path.isfile(os.path.join(directory, name)) for name in TRAIN_FILES + [TEST_FILE])


def batches_dir(directory):
    """The directory holding the batch files: *directory* itself or its cifar-10-batches-py, else None."""
    for candidate in (directory, os.path.join(directory, CACHE_SUBDIR)):
        if has_batches(candidate):
            return candidate
    return None


def keras_cache_dirs():
    """Where Keras's cifar10.load_data() would have left the batches, most specific first."""
    dirs = []
    if os.environ.get("KERAS_HOME"):
        dirs.append(os.path.join(os.environ["KERAS_HOME"], "datasets", CACHE_SUBDIR))
    dirs.append(os.path.join(os.path.expanduser("~"), ".keras", "datasets", CACHE_SUBDIR))
    # Keras falls back to /tmp/.keras when the home directory is not writable.
    dirs.append(os.path.join("/tmp", ".keras", "datasets", CACHE_SUBDIR))
    return dirs


def locate_data(data_arg, cache_dirs=None):
    """The batch directory to read, or None for synthetic data.

    An explicit --data that does not hold the batches is an error rather than a silent switch to
    synthetic data: the user asked for real data.
    """
    if data_arg is not None:
        if not os.path.isdir(data_arg):
            raise DataError("--data %s: no such directory (it should hold CIFAR-10's python-version "
                            "batches data_batch_1..5 and test_batch)" % data_arg)
        found = batches_dir(data_arg)
        if found is None:
            missing = [name for name in TRAIN_FILES + [TEST_FILE]
                       if not os.path.isfile(os.path.join(data_arg, name))]
            raise DataError("--data %s: missing %s; it should hold CIFAR-10's python-version batches "
                            "(cifar-10-python.tar.gz, extracted)" % (data_arg, ", ".join(missing)))
        return found
    for candidate in keras_cache_dirs() if cache_dirs is None else cache_dirs:
        if has_batches(candidate):
            return candidate
    return None


def _field(batch, name):
    # Python 3 unpickles the Python 2 batches with bytes keys (encoding='bytes'); Python 2 gives str.
    for key in (name.encode("ascii"), name):
        if key in batch:
            return batch[key]
    raise KeyError(name)


def load_batch(path):
    """(images uint8 (n, 3, 32, 32), labels int64 (n,)) from one official batch file."""
    failure = None
    try:
        with open(path, "rb") as handle:
            if sys.version_info[0] >= 3:
                batch = pickle.load(handle, encoding="bytes")
            else:
                batch = pickle.load(handle)
        data = np.asarray(_field(batch, "data"), dtype=np.uint8)
        labels = np.asarray(_field(batch, "labels"), dtype=np.int64)
    except (IOError, OSError, EOFError, KeyError, TypeError, ValueError, AttributeError, IndexError,
            ImportError, pickle.UnpicklingError) as exc:
        failure = "%s: %s" % (type(exc).__name__, exc)
    # Raised outside the except clause: Python 2 has no `raise ... from`.
    if failure is not None:
        raise DataError("%s: not a CIFAR-10 python-version batch (%s)" % (path, failure))
    size = int(np.prod(IMAGE_SHAPE))
    if data.ndim != 2 or data.shape[1] != size or labels.shape != (data.shape[0],):
        raise DataError("%s: not a CIFAR-10 python-version batch (data %s, %d labels; expected (n, %d) "
                        "and n labels)" % (path, data.shape, labels.size, size))
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError("%s: labels outside 0..%d" % (path, NUM_CLASSES - 1))
    return data.reshape((-1,) + IMAGE_SHAPE), labels


def _read(directory, names, count):
    """The first *count* images of the batch files *names*, reading no more files than needed."""
    images, labels, have = [], [], 0
    for name in names:
        if have >= count:
            break
        x, y = load_batch(os.path.join(directory, name))
        images.append(x[:count - have])
        labels.append(y[:count - have])
        have += len(images[-1])
    return np.concatenate(images), np.concatenate(labels)


def load_cifar10(directory, n_train, n_test):
    """((x_train, y_train), (x_test, y_test)), channels first uint8 and int labels, cut to size."""
    return (_read(directory, TRAIN_FILES, min(n_train, TRAIN_TOTAL)),
            _read(directory, [TEST_FILE], min(n_test, TEST_TOTAL)))


def synthetic_cifar10(n_train, n_test, seed):
    """Random uint8 images shaped like CIFAR-10 whose labels can be learned.

    Each class has its own smooth colour pattern and an image is that pattern plus strong noise, so
    a CNN's accuracy rises well above chance within an epoch or two, as it does on the real data.
    The same seed always gives the same data.
    """
    rng = np.random.RandomState(seed)
    channels, height, width = IMAGE_SHAPE
    rows = np.linspace(0.0, np.pi, height).reshape(1, height, 1)
    cols = np.linspace(0.0, np.pi, width).reshape(1, 1, width)
    templates = np.empty((NUM_CLASSES,) + IMAGE_SHAPE, dtype=np.float32)
    for k in range(NUM_CLASSES):
        colour = rng.uniform(70, 185, size=(channels, 1, 1))
        freq = rng.uniform(0.5, 3.0, size=(channels, 2, 1, 1))
        phase = rng.uniform(0, 2 * np.pi, size=(channels, 1, 1))
        wave = np.sin(freq[:, 0] * rows + freq[:, 1] * cols + phase)
        templates[k] = colour + 40.0 * wave

    def make(count):
        labels = rng.randint(0, NUM_CLASSES, size=count).astype(np.int64)
        images = np.empty((count,) + IMAGE_SHAPE, dtype=np.uint8)
        step = 2000  # in chunks: float noise for 50000 images at once would need over a gigabyte
        for start in range(0, count, step):
            stop = min(count, start + step)
            noise = rng.normal(0.0, 50.0, size=(stop - start,) + IMAGE_SHAPE).astype(np.float32)
            images[start:stop] = np.clip(templates[labels[start:stop]] + noise, 0, 255).astype(np.uint8)
        return images, labels

    return make(n_train), make(n_test)


def get_data(data_arg, samples, seed, cache_dirs=None):
    """(train, test, info): the data to train on and the dict for the theanogpu-data line."""
    n_train, n_test = train_test_sizes(samples)
    directory = locate_data(data_arg, cache_dirs)
    if directory is None:
        train, test = synthetic_cifar10(n_train, n_test, seed)
        info = {"source": "synthetic", "path": None, "label": SYNTHETIC_LABEL, "seed": seed}
    else:
        train, test = load_cifar10(directory, n_train, n_test)
        info = {"source": "cifar10", "path": os.path.abspath(directory), "label": "CIFAR-10"}
    info["train"] = int(len(train[1]))
    info["test"] = int(len(test[1]))
    return train, test, info


def prepare(images, labels, channels_last):
    """Float32 images scaled to [0, 1] in the backend's layout, and one-hot float32 labels."""
    if channels_last:
        # Reorder while still uint8: a quarter of the memory of reordering the float copy.
        images = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    x = images.astype(np.float32)
    x /= 255.0
    y = np.eye(NUM_CLASSES, dtype=np.float32)[labels]
    return x, y


def emit(tag, payload):
    """Print one machine-readable line and flush it at once (the parser reads it as it arrives)."""
    sys.stdout.write("theanogpu-%s: %s\n" % (tag, json.dumps(payload, sort_keys=True)))
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------------
# Device truth: what the backend really computes on, not what was asked for


def _gpu_word(device):
    if not device:
        return None
    device = str(device).lower()
    if device.startswith(("gpu", "cuda", "opencl")):
        return "gpu"
    if device.startswith("cpu"):
        return "cpu"
    return None


def requested_from_env():
    return _gpu_word(os.environ.get("THEANOGPU_REQUESTED_DEVICE"))


def theano_device():
    import theano
    config = theano.config
    requested = config.device
    init_gpu = getattr(config, "init_gpu_device", "") or ""
    detail = {"theano": getattr(theano, "__version__", None), "config_device": requested,
              "floatX": config.floatX}
    if init_gpu:
        detail["init_gpu_device"] = init_gpu
    used, name = "cpu", None
    # The old CUDA backend (Theano 0.8/0.9, device=gpu*): theano.config.device keeps the requested
    # string even after a fallback to the CPU, so ask the backend itself (reference section 5).
    # Only look at modules Theano already imported: importing theano.sandbox.cuda in 1.0 raises.
    cuda = sys.modules.get("theano.sandbox.cuda")
    if cuda is not None:
        active = bool(getattr(cuda, "cuda_enabled", False)) and \
            getattr(getattr(cuda, "use", None), "device_number", None) is not None
        detail["old_backend"] = {"cuda_enabled": bool(getattr(cuda, "cuda_enabled", False)),
                                 "device_number": getattr(getattr(cuda, "use", None), "device_number", None)}
        try:
            detail["cnmem"] = float(config.lib.cnmem)
        except AttributeError:
            pass
        if active and str(requested).startswith("gpu"):
            used = "gpu"
            try:
                name = str(cuda.active_device_name())
            except Exception:  # the name is a nicety; the device truth is already known
                name = None
    for module_name in ("theano.gpuarray", "theano.sandbox.gpuarray"):
        gpuarray = sys.modules.get(module_name)
        if gpuarray is None or not hasattr(gpuarray, "pygpu_activated"):
            continue
        activated = bool(gpuarray.pygpu_activated)
        detail["gpuarray"] = {"module": module_name, "pygpu_activated": activated}
        try:
            detail["preallocate"] = float(config.gpuarray.preallocate)
        except AttributeError:
            pass
        if activated and _gpu_word(requested) == "gpu":
            used = "gpu"
            try:
                contexts = list(gpuarray.init_dev.devmap.values())
                name = str(contexts[0].devname) if contexts else None
            except Exception:
                name = None
        break
    return {"backend": "theano", "device": used, "name": name,
            "requested": _gpu_word(requested) or _gpu_word(init_gpu), "detail": detail}


def torch_device():
    import torch
    detail = {"torch": torch.__version__, "cuda_build": getattr(torch.version, "cuda", None)}
    used, name = "cpu", None
    if torch.cuda.is_available():
        used = "gpu"
        name = torch.cuda.get_device_name(0)
        detail["cuda_devices"] = torch.cuda.device_count()
    try:
        # Keras 3 decides its own device; report it when this Keras says so.
        from keras.src.backend.torch.core import get_device
        detail["keras_device"] = str(get_device())
        used = "gpu" if str(get_device()).startswith("cuda") else "cpu"
    except Exception:  # not this Keras's layout: torch's own answer stands
        pass
    if used != "gpu":
        name = None
    return {"backend": "torch", "device": used, "name": name, "detail": detail}


def _plugin_modules():
    try:
        import pkgutil

        import jax_plugins
        return [module.name for module in pkgutil.iter_modules(jax_plugins.__path__)]
    except Exception:  # no plugin namespace: no GPU plugin
        return []


def jax_device():
    import jax
    devices = jax.devices()
    first = devices[0] if devices else None
    platform = getattr(first, "platform", None)
    detail = {"jax": jax.__version__, "platform": platform, "devices": len(devices),
              "cuda_plugin": any(name.startswith("jax_cuda") for name in _plugin_modules())}
    used = "cpu" if platform == "cpu" else ("gpu" if platform in ("gpu", "cuda", "rocm") else None)
    name = getattr(first, "device_kind", None) if used == "gpu" else None
    return {"backend": "jax", "device": used, "name": name, "detail": detail}


def tensorflow_device():
    import tensorflow as tf
    detail = {"tensorflow": tf.__version__}
    try:
        detail["built_with_cuda"] = bool(tf.test.is_built_with_cuda())
    except Exception:  # a nicety for the fallback reason
        pass
    used, name = None, None
    try:
        gpus = tf.config.list_physical_devices("GPU")
        used = "gpu" if gpus else "cpu"
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            name = details.get("device_name")
    except AttributeError:  # TensorFlow 1.x
        try:
            from tensorflow.python.client import device_lib
            gpus = [d for d in device_lib.list_local_devices() if d.device_type == "GPU"]
            used = "gpu" if gpus else "cpu"
            name = gpus[0].physical_device_desc if gpus else None
        except Exception:
            pass
    return {"backend": "tensorflow", "device": used, "name": name, "detail": detail}


def _hidden_by_env():
    """The CUDA_VISIBLE_DEVICES / JAX_PLATFORMS setting that hides every GPU, or None."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return "CUDA_VISIBLE_DEVICES=%s hides every GPU" % visible.strip()
    platforms = os.environ.get("JAX_PLATFORMS")
    if platforms is not None and "cuda" not in platforms and "gpu" not in platforms:
        return "JAX_PLATFORMS=%s" % platforms
    return None


def no_gpu_reason(report):
    """Why a modern backend computes on the CPU: what a user can act on, most specific first."""
    detail = report.get("detail") or {}
    backend = report.get("backend")
    hidden = _hidden_by_env()
    if hidden:
        return "no GPU visible: " + hidden
    if backend == "torch" and not detail.get("cuda_build"):
        return "no GPU visible: this torch %s is a CPU-only build" % detail.get("torch")
    if backend == "tensorflow" and detail.get("built_with_cuda") is False:
        return "no GPU visible: this TensorFlow %s is a CPU-only build" % detail.get("tensorflow")
    if backend == "jax" and not detail.get("cuda_plugin"):
        return "no GPU visible: this jaxlib has no CUDA plugin (pip install 'jax[cuda12]')"
    return "no GPU visible to %s" % backend


def device_report(backend):
    probes = {"theano": theano_device, "torch": torch_device, "jax": jax_device,
              "tensorflow": tensorflow_device}
    if backend in probes:
        try:
            report = probes[backend]()
        except Exception as exc:  # never let the report stop the training it describes
            report = {"backend": backend, "device": None, "name": None,
                      "detail": {"error": "%s: %s" % (type(exc).__name__, exc)}}
    else:
        report = {"backend": backend, "device": None, "name": None, "detail": {}}
    if backend != "theano" or report.get("requested") is None:
        report["requested"] = requested_from_env()
    if backend != "theano" and report.get("requested") == "gpu" and report.get("device") == "cpu":
        report["reason"] = no_gpu_reason(report)
    return report


# --------------------------------------------------------------------------------------------------
# Keras, whichever version


def keras_major(keras):
    try:
        return int(str(keras.__version__).split(".")[0])
    except ValueError:
        return 3


def backend_name(keras):
    from keras import backend as K
    name = K.backend() if hasattr(K, "backend") else None
    if name is None and hasattr(keras, "config"):
        name = keras.config.backend()
    return str(name)


def channels_last(keras):
    """True when the backend wants images as (rows, cols, channels)."""
    from keras import backend as K
    if hasattr(K, "image_data_format"):  # Keras 2 and 3
        return K.image_data_format() == "channels_last"
    if hasattr(keras, "config") and hasattr(keras.config, "image_data_format"):
        return keras.config.image_data_format() == "channels_last"
    return K.image_dim_ordering() == "tf"  # Keras 1: 'th' is channels first


def explicit_padding_needed(backend):
    """True on Theano 0.8 without a BLAS library: its only CPU convolution then is the legacy ConvOp,
    which supports 'valid' and 'full' borders but not Keras's 'same' (Theano's 'half')."""
    if backend != "theano":
        return False
    import theano
    version = str(getattr(theano, "__version__", ""))
    return version.startswith("0.8") and (not theano.config.blas.ldflags or not theano.config.cxx)


def conv_layers(keras, filters, same, explicit_padding, **kwargs):
    """The layers of one 3x3 convolution, 'same' or 'valid', whatever the Keras version."""
    from keras import layers
    padding = "valid"
    before = []
    if same and explicit_padding:
        # One pixel of zeros around a 3x3 'valid' convolution is exactly a 'same' convolution.
        before.append(layers.ZeroPadding2D(padding=(1, 1), **kwargs))
        kwargs = {}
    elif same:
        padding = "same"
    # Keras 1.2 also has a Conv2D name, but as an alias of Convolution2D(nb_filter, nb_row, nb_col).
    if keras_major(keras) >= 2:
        conv = layers.Conv2D(filters, (3, 3), padding=padding, **kwargs)
    else:
        conv = layers.Convolution2D(filters, 3, 3, border_mode=padding, **kwargs)
    return before + [conv]


def build_model(keras, input_shape, explicit_padding=False):
    from keras import layers
    from keras.models import Sequential
    model = Sequential()
    first = {}
    if keras_major(keras) >= 3:
        model.add(keras.Input(shape=input_shape))
    else:
        first["input_shape"] = input_shape

    def conv(filters, same, **kwargs):
        for layer in conv_layers(keras, filters, same, explicit_padding, **kwargs):
            model.add(layer)
        model.add(layers.Activation("relu"))

    conv(32, True, **first)
    conv(32, False)
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(0.25))

    conv(64, True)
    conv(64, False)
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(0.25))

    model.add(layers.Flatten())
    model.add(layers.Dense(512))
    model.add(layers.Activation("relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(NUM_CLASSES))
    model.add(layers.Activation("softmax"))
    return model


def make_optimizer(keras):
    optimizers = keras.optimizers
    if keras_major(keras) >= 3:
        # Keras 3 dropped `decay`; Keras 2's decay is lr / (1 + decay * iterations), which is exactly
        # InverseTimeDecay with decay_steps=1.
        schedule = optimizers.schedules.InverseTimeDecay(LEARNING_RATE, decay_steps=1, decay_rate=DECAY)
        return optimizers.RMSprop(learning_rate=schedule)
    # Keras 1.x and 2.x all accept lr= and decay= (2.3 prefers learning_rate= but still takes lr=).
    return optimizers.RMSprop(lr=LEARNING_RATE, decay=DECAY)


def epoch_timer(keras):
    """A callback recording each epoch's wall time, more precise than Keras's whole seconds."""
    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.time()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(round(time.time() - self._start, 3))

    return EpochTimer()


def seed_everything(keras, seed):
    import random
    random.seed(seed)
    np.random.seed(seed)
    utils = getattr(keras, "utils", None)
    if utils is not None and hasattr(utils, "set_random_seed"):  # Keras 3 seeds its backend too
        utils.set_random_seed(seed)


def apply_dtype_policy(keras):
    """THEANOGPU_DTYPE_POLICY (e.g. mixed_float16, set by a precision=mixed variant) -> Keras's policy;
    Keras reads no environment variable for it. Returns the policy applied, or None."""
    policy = os.environ.get("THEANOGPU_DTYPE_POLICY")
    if not policy:
        return None
    mixed = getattr(keras, "mixed_precision", None)
    setter = getattr(mixed, "set_global_policy", None)
    if setter is None:
        sys.stderr.write("cifar10_cnn.py: THEANOGPU_DTYPE_POLICY=%s ignored: Keras %s has no mixed precision\n"
                         % (policy, keras.__version__))
        return None
    setter(policy)
    return policy


def train(args, train_data, test_data):
    import keras
    backend = backend_name(keras)
    policy = apply_dtype_policy(keras)
    report = device_report(backend)
    if policy:
        report["dtype_policy"] = policy
    emit("device", report)
    seed_everything(keras, args.seed)
    last = channels_last(keras)
    x_train, y_train = prepare(train_data[0], train_data[1], last)
    x_test, y_test = prepare(test_data[0], test_data[1], last)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")
    sys.stdout.flush()

    explicit = explicit_padding_needed(backend)
    if explicit:
        sys.stderr.write("cifar10_cnn.py: Theano 0.8 without BLAS (blas.ldflags is empty) has no CPU "
                         "convolution with 'same' borders; using ZeroPadding2D + 'valid' (the same "
                         "model)\n")
    model = build_model(keras, x_train.shape[1:], explicit)
    model.compile(loss="categorical_crossentropy", optimizer=make_optimizer(keras), metrics=["accuracy"])
    timer = epoch_timer(keras)
    fit_args = {"batch_size": args.batch_size, "validation_data": (x_test, y_test), "shuffle": True,
                "verbose": args.verbose, "callbacks": [timer]}
    fit_args["nb_epoch" if keras_major(keras) < 2 else "epochs"] = args.epochs
    start = time.time()
    model.fit(x_train, y_train, **fit_args)
    # Wall time of the whole fit(): with Theano it includes compiling the training function, which
    # Keras does before the first epoch starts its clock.
    fit_seconds = time.time() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)[:2]
    emit("result", {"epochs": len(timer.seconds), "epoch_seconds": timer.seconds,
                    "test_loss": float(loss), "test_accuracy": float(accuracy),
                    "fit_seconds": round(fit_seconds, 3), "backend": backend,
                    "keras": str(keras.__version__),
                    "same_padding": "explicit" if explicit else "native"})
    print("Test loss:", float(loss))
    print("Test accuracy:", float(accuracy))


# --------------------------------------------------------------------------------------------------
# Command line


def positive_int(text):
    value = int(text) if text.strip().lstrip("+-").isdigit() else None
    if value is None:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text)
    if value < 1:
        raise argparse.ArgumentTypeError("%r must be 1 or more" % text)
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Train the classic Keras CIFAR-10 CNN on any Keras 1.2-3.x backend and print "
                    "machine-readable theanogpu-data/-device/-result lines.")
    parser.add_argument("--epochs", type=positive_int, default=5, help="epochs to train (default 5)")
    parser.add_argument("--samples", type=positive_int, default=None,
                        help="train on the first N images and test on N//5 (default: all, 50000/10000)")
    parser.add_argument("--data", metavar="DIR", default=None,
                        help="directory of CIFAR-10's python-version batches (data_batch_1..5, test_batch); "
                             "default ~/.keras/datasets/cifar-10-batches-py, else synthetic data")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="batch size (default 32)")
    # 1: a progress bar whose every redraw tells how far the epoch is, which `compare --until-stable`
    # turns into the run's steady-state speed within seconds.
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                        help="Keras fit() verbosity: 1 progress bar (default), 2 one line per epoch")
    parser.add_argument("--seed", type=int, default=1337,
                        help="random seed for synthetic data, shuffling and weights (default 1337)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        train_data, test_data, info = get_data(args.data, args.samples, args.seed)
    except DataError as exc:
        sys.stderr.write("cifar10_cnn.py: %s\n" % exc)
        return 2
    emit("data", info)
    if info["source"] == "synthetic":
        sys.stderr.write("cifar10_cnn.py: using %s; pass --data DIR for the real images\n" % SYNTHETIC_LABEL)
    train(args, train_data, test_data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
