"""The .theanorc edge: which file, backup, atomic replace, refusal, and surviving SIGKILL mid-write."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from theanogpu.errors import UserError
from theanogpu.flags import merge_theanorc
from theanogpu.theanorc import choose_target, write_theanorc

FLAGS = {"device": "gpu", "floatX": "float32", "lib.cnmem": "0.8"}
OLD = "# mine\n[global]\nfloatX = float64\n\n[blas]\nldflags = -lopenblas\n"


def test_target_is_path_then_theanorc_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert choose_target("~/x.rc", {}).path == tmp_path / "x.rc"
    env = {"THEANORC": os.pathsep.join(["~/a.rc", "/elsewhere/b.rc"])}
    target = choose_target(None, env)
    assert target.path == tmp_path / "a.rc" and "later ones override" in target.notes[0]
    assert choose_target(None, {}).path == tmp_path / ".theanorc"


def test_empty_theanorc_means_no_file(tmp_path):
    with pytest.raises(UserError, match="THEANORC is set but empty"):
        choose_target(None, {"THEANORC": ""})


def test_windows_theanorc_txt_wins_when_it_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    assert choose_target(None, {}, platform="win32", exists=lambda p: False).path == tmp_path / ".theanorc"
    target = choose_target(None, {}, platform="win32", exists=lambda p: p.endswith(".theanorc.txt"))
    assert target.path == tmp_path / ".theanorc.txt" and "wins" in target.notes[0]
    # Not on other platforms, and not when THEANORC is set (it replaces the defaults).
    assert choose_target(None, {}, platform="linux", exists=lambda p: True).path == tmp_path / ".theanorc"


def test_new_file_gets_header_and_flags(tmp_path):
    path = tmp_path / ".theanorc"
    report = write_theanorc(path, FLAGS, ["hello"])
    assert report.created and report.backup is None
    assert path.read_text() == "# hello\n\n[global]\ndevice = gpu\nfloatX = float32\n\n[lib]\ncnmem = 0.8\n"


def test_merge_keeps_user_content_and_backs_up_byte_for_byte(tmp_path):
    path = tmp_path / ".theanorc"
    path.write_text(OLD)
    path.chmod(0o600)
    report = write_theanorc(path, FLAGS, ["ignored for existing files"])
    assert report.changed and report.backup is not None
    assert report.backup.read_text() == OLD and report.backup.name.startswith(".theanorc.bak-")
    assert path.read_text() == ("# mine\n[global]\nfloatX = float32\ndevice = gpu\n\n[blas]\nldflags = -lopenblas\n"
                                "\n[lib]\ncnmem = 0.8\n")
    assert path.stat().st_mode & 0o777 == 0o600
    assert any("wrote" in line and str(report.backup) in line for line in report.lines)


def test_a_symlinked_theanorc_stays_a_link(tmp_path):
    real = tmp_path / "dotfiles" / "theanorc"
    real.parent.mkdir()
    real.write_text(OLD)
    link = tmp_path / ".theanorc"
    link.symlink_to(real)
    report = write_theanorc(link, FLAGS, [])
    assert link.is_symlink() and "cnmem = 0.8" in real.read_text()
    assert report.path == real and report.backup.parent == real.parent


def test_backups_never_overwrite_each_other(tmp_path):
    path = tmp_path / "rc"
    path.write_text(OLD)
    first = write_theanorc(path, {"floatX": "float16"}, []).backup
    second = write_theanorc(path, {"floatX": "float32"}, []).backup
    assert first != second and first.read_text() == OLD and "float16" in second.read_text()


def test_unchanged_file_is_not_rewritten(tmp_path):
    path = tmp_path / "rc"
    path.write_text(OLD)
    report = write_theanorc(path, {"floatX": "float64"}, [])
    assert not report.changed and report.backup is None and list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("text", ["[global]\nfloatX = a\nfloatx = b\n", "device = gpu\n", "[global]\njunk\n"])
def test_unreadable_file_is_refused_unless_forced(tmp_path, text):
    path = tmp_path / "rc"
    path.write_text(text)
    with pytest.raises(UserError, match="line .*--force"):
        write_theanorc(path, FLAGS, [])
    assert path.read_text() == text and list(tmp_path.iterdir()) == [path]
    report = write_theanorc(path, FLAGS, [], force=True)
    assert report.changed and report.backup.read_text() == text
    assert any(line.startswith("warning:") for line in report.lines)


def test_unwritable_targets_leave_everything_alone(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="does not exist"):
        write_theanorc(blocker / ".theanorc", FLAGS, [])
    with pytest.raises(UserError, match="directory"):
        write_theanorc(tmp_path, FLAGS, [])
    assert blocker.read_text() == "x" and sorted(tmp_path.iterdir()) == [blocker]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_directory(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "rc").write_text(OLD)
    folder.chmod(0o555)
    try:
        with pytest.raises(UserError, match="not writable"):
            write_theanorc(folder / "rc", FLAGS, [])
        assert (folder / "rc").read_text() == OLD and len(list(folder.iterdir())) == 1
    finally:
        folder.chmod(0o755)


def _wait_for_writing(proc, path):
    """Return as soon as *proc* starts replacing *path* (a new temporary file, or *path* itself changes)."""
    before = set(os.listdir(path.parent))
    stat = path.stat()
    while proc.poll() is None:
        now = path.stat()
        if (now.st_ino, now.st_size, now.st_mtime_ns) != (stat.st_ino, stat.st_size, stat.st_mtime_ns):
            return
        # The main write's temporary file, not the backup's (the backup is written first).
        if any(".bak" not in name for name in set(os.listdir(path.parent)) - before):
            return


def test_sigkill_mid_write_leaves_old_or_new_never_partial(tmp_path):
    """SIGKILL real `theanogpu config --write` processes while they write a big file: old or new, never a mix."""
    path = tmp_path / "big.theanorc"
    padding = "".join("# padding %06d %s\n" % (i, "." * 1000) for i in range(5000))
    path.write_text("[global]\nopenmp = False\n" + padding)
    env = dict(os.environ, HOME=str(tmp_path))
    env.pop("THEANORC", None)
    rng = random.Random(1234)
    history = [path.read_text()]
    killed = finished = 0
    for attempt in range(9):
        old = path.read_text()
        value = "False" if "openmp = True" in old else "True"
        new = merge_theanorc(old, {"device": "gpu", "floatX": "float32", "openmp": value}).text
        history.append(new)
        proc = subprocess.Popen([sys.executable, "-m", "theanogpu", "config", "--theano", "0.8", "--set",
                                 "openmp=" + value, "--write", str(path)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt % 3 == 0:
            proc.wait()  # some runs finish, so that the file keeps changing
        else:
            _wait_for_writing(proc, path)
            time.sleep(rng.uniform(0, 0.01))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        else:
            finished += 1
        proc.wait()
        assert path.read_text() in (old, new), "attempt %d left a partial file" % attempt
        for backup in tmp_path.glob("big.theanorc.bak-*"):
            assert backup.read_text() in history, "attempt %d left a partial backup" % attempt
    assert killed >= 3 and finished >= 3, (killed, finished)
