"""EDGE: the user's dataset caches, visible inside a run's private HOME, and watched for changes.

A run gets a private HOME so that ``~/.theanorc``, ``~/.keras/keras.json`` and ``~/.theano`` (the
compile cache) never leak in. Scripts that call ``keras.datasets.cifar10.load_data()`` and the
like then look in an empty ``~/.keras/datasets`` and download again (or crash, offline). So each
known dataset cache of the user's is mirrored into the private HOME: the directories are the run's
own, every file is a symbolic link to the user's file. What a run downloads or extracts lands in its
own directories; it never deletes or renames the user's files (it can only remove its links). The
one way left to change a user's file is to open an existing one for writing through its link: every
linked file's size, modification time and inode are compared after the run, and a change is
reported with the run (results.json ``dataset_changes``), never silent.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

# (where in HOME the cache lives, what uses it). KERAS_HOME's datasets (Keras's own override of
# ~/.keras) are mirrored into ~/.keras/datasets, where a run's Keras looks (KERAS_HOME is not passed on).
CACHES = (
    (".keras/datasets", "Keras: keras.datasets.*.load_data(), keras.utils.get_file()"),
    ("scikit_learn_data", "scikit-learn: sklearn.datasets.fetch_*()"),
    ("tensorflow_datasets", "TensorFlow Datasets: tfds.load()"),
    ("nltk_data", "NLTK: nltk.download()"),
)
# A cache with more files than this is linked by whole subdirectories past the limit (and then a run
# could write into those): mirroring a million files per run would cost more than the run.
MAX_LINKS = 20000

Signature = Tuple[int, int, int]  # size, mtime_ns, inode


@dataclass
class Mirror:
    """What one run was given: the caches mirrored and the files linked, with their signatures."""

    caches: List[Tuple[str, str]] = field(default_factory=list)  # (user's directory, private path)
    files: Dict[str, Signature] = field(default_factory=dict)  # user's file -> signature before the run
    directory_links: List[str] = field(default_factory=list)  # past MAX_LINKS: whole directories linked

    def changes(self) -> List[str]:
        """The user's files that changed or vanished since the mirror was made, one line each."""
        found = []
        for path, before in self.files.items():
            after = _signature(path)
            if after is None:
                found.append("%s: removed" % path)
            elif after != before:
                found.append("%s: modified (size %d -> %d bytes)" % (path, before[0], after[0]))
        return found


def _signature(path: str) -> Optional[Signature]:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


def sources(real_home: Path, environ: Mapping[str, str]) -> List[Tuple[Path, str]]:
    """(user's cache directory, path under the private HOME) for every cache that exists, KERAS_HOME's
    datasets first (Keras prefers it)."""
    found: List[Tuple[Path, str]] = []
    keras_home = environ.get("KERAS_HOME")
    if keras_home:
        found.append((Path(os.path.expanduser(keras_home)) / "datasets", ".keras/datasets"))
    found += [(real_home / relative, relative) for relative, _ in CACHES]
    return [(source, relative) for source, relative in found if source.is_dir()]


def mirror_caches(private_home: Path, real_home: Path, environ: Mapping[str, str]) -> Mirror:
    """Mirror every dataset cache of the user's into *private_home* (see the module doc)."""
    mirror = Mirror()
    budget = [MAX_LINKS]
    for source, relative in sources(real_home, environ):
        target = private_home / relative
        _mirror_dir(source.resolve(), target, mirror, budget)
        mirror.caches.append((str(source), str(target)))
    return mirror


def _mirror_dir(source: Path, target: Path, mirror: Mirror, budget: List[int]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    try:
        entries = sorted(os.scandir(str(source)), key=lambda entry: entry.name)
    except OSError:
        return  # unreadable: the run sees an empty directory, as it would see none
    for entry in entries:
        link = target / entry.name
        if link.exists() or link.is_symlink():
            continue  # an earlier cache (KERAS_HOME's) already provides this name
        real = Path(os.path.realpath(entry.path))
        if real.is_dir():
            if budget[0] <= 0:
                os.symlink(str(real), str(link))
                mirror.directory_links.append(str(real))
                continue
            _mirror_dir(real, link, mirror, budget)
        elif real.is_file():
            signature = _signature(str(real))
            if signature is None:
                continue
            os.symlink(str(real), str(link))
            mirror.files[str(real)] = signature
            budget[0] -= 1
