"""Special files, odd paths and sizes: nothing replaced, nothing hung, every count and input bounded.

Each case runs the real CLI in a process (with a timeout, and an address-space limit where the old
behaviour was to eat memory), as the test's own user and, where permissions matter, as an
ordinary user too (conftest.who: root in CI, then `nobody`).
"""

import json
import os
import resource
import select
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import IS_ROOT, _as_nobody, cli_env, give, run_cli

from theanogpu import fsutil, results
from theanogpu.cli import main
from theanogpu.errors import UserError
from theanogpu.theanorc import choose_target, theanorc_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LOG = FIXTURES / "classic" / "cpu.log"
USER_FILE = "# keep me\n[global]\nfloatX = float64\n"


def one_line_error(proc, *words):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr, (word, proc.stderr)


def null_device(folder):
    """A character device like /dev/null inside *folder* (root only), else None."""
    node = folder / "null"
    try:
        os.mknod(str(node), stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError):
        return None
    return node


def same_device(path, before):
    after = os.lstat(str(path))
    return stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_rdev == before.st_rdev


def limited(gigabytes=2):
    """preexec_fn: an address-space limit, so that a process that reads without end fails fast."""
    def apply():
        size = gigabytes * 1024 ** 3
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return apply


# ----------------------------------------------------------------------- special write targets


def test_config_write_never_replaces_a_device(who, user_dir):
    # As root, a device node of our own stands in for /dev/null (replacing the real one is the bug);
    # as an ordinary user /dev/null itself is safe to aim at.
    device = Path("/dev/null") if who == "user" else null_device(user_dir)
    if device is None:
        pytest.skip("cannot create a device node here (no CAP_MKNOD)")
    before = os.lstat(str(device))
    proc = run_cli(who, ["config", "--theano", "0.8", "--write=%s" % device], user_dir)
    one_line_error(proc, str(device), "character device", "not a regular file")
    assert same_device(device, before) and proc.stdout == ""


def test_report_output_dash_is_standard_output(tmp_path):
    proc = run_cli("self", ["report", "--output", "-", LOG], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("name ") and "153.5" in proc.stdout and not (tmp_path / "-").exists()


def test_report_output_dev_stdout_is_standard_output_and_stays_what_it_was(tmp_path):
    # As an ordinary user: aimed at the system's own /dev/stdout, a regression must fail, not replace it.
    user = "self"
    if IS_ROOT:
        prefix, why = _as_nobody()
        if prefix is None:
            pytest.skip(why)
        user = "user"
        tmp_path.chmod(0o755)
    before = os.lstat("/dev/stdout")
    proc = run_cli(user, ["report", "--output", "/dev/stdout", LOG], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("name ") and "153.5" in proc.stdout
    assert stat.S_IFMT(os.lstat("/dev/stdout").st_mode) == stat.S_IFMT(before.st_mode)


def test_report_output_through_a_link_to_proc_self_fd_1_is_standard_output(tmp_path):
    link = tmp_path / "out.txt"
    link.symlink_to("/proc/self/fd/1")
    proc = run_cli("self", ["report", "--format", "csv", "--output", link, LOG], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("host,name,") and link.is_symlink()
    assert os.readlink(str(link)) == "/proc/self/fd/1"


def read_fifo(fifo, received, seconds=60):
    """What a writer puts into *fifo*, read without ever blocking (so a test cannot hang on it)."""
    fd = os.open(str(fifo), os.O_RDONLY | os.O_NONBLOCK)
    chunks, deadline = [], time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            data = os.read(fd, 65536) if ready else b""
            if data:
                chunks.append(data)
            elif chunks:
                break  # the writer closed it
            else:
                time.sleep(0.01)  # no writer yet: the FIFO reads as empty
    finally:
        os.close(fd)
    received.append(b"".join(chunks).decode())


def test_report_output_into_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    received = []
    reader = threading.Thread(target=read_fifo, args=(fifo, received), daemon=True)
    reader.start()
    time.sleep(0.2)  # the reader has the FIFO open
    proc = run_cli("self", ["report", "--output", fifo, LOG], tmp_path)
    reader.join(70)
    assert proc.returncode == 0, proc.stderr
    assert received and "153.5" in received[0]
    assert stat.S_ISFIFO(os.lstat(str(fifo)).st_mode)


def test_report_output_into_a_fifo_nobody_reads_is_refused_not_hung(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    proc = run_cli("self", ["report", "--output", fifo, LOG], tmp_path, timeout=30)
    one_line_error(proc, "no process is reading")
    assert stat.S_ISFIFO(os.lstat(str(fifo)).st_mode)


def test_report_output_into_a_null_device_leaves_it_a_device(tmp_path):
    device = null_device(tmp_path)
    if device is None:
        pytest.skip("cannot create a device node here (no CAP_MKNOD)")
    before = os.lstat(str(device))
    proc = run_cli("self", ["report", "--output", device, LOG], tmp_path)
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    assert same_device(device, before)


def test_report_output_refuses_a_directory_a_socket_and_other_devices(tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    sock_path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    targets = [(folder, "directory"), (sock_path, "socket")]
    zero = tmp_path / "zero"
    try:
        os.mknod(str(zero), stat.S_IFCHR | 0o666, os.makedev(1, 5))
        targets.append((zero, "character device"))
    except OSError:
        pass
    try:
        for target, kind in targets:
            before = os.lstat(str(target))
            proc = run_cli("self", ["report", "--output", target, LOG], tmp_path)
            one_line_error(proc, "--output=%s" % target, kind)
            assert stat.S_IFMT(os.lstat(str(target)).st_mode) == stat.S_IFMT(before.st_mode)
            assert proc.stdout == ""
    finally:
        server.close()


def test_plot_follows_the_same_rules(tmp_path):
    pytest.importorskip("matplotlib")
    folder = tmp_path / "chart.svg"
    folder.mkdir()
    proc = run_cli("self", ["report", "--plot", folder, LOG], tmp_path)
    one_line_error(proc, "--plot=%s" % folder, "directory")
    real = tmp_path / "charts" / "real.svg"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(real)
    proc = run_cli("self", ["report", "--plot", link, LOG], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and real.read_text().lstrip().startswith("<?xml")


def test_a_symlinked_theanorc_is_updated_at_its_target_and_said_so(tmp_path):
    real = tmp_path / "dotfiles" / "theanorc"
    real.parent.mkdir()
    real.write_text(USER_FILE)
    (tmp_path / ".theanorc").symlink_to(real)
    proc = run_cli("self", ["config", "--theano", "0.8", "--write"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / ".theanorc").is_symlink() and "device = gpu" in real.read_text()
    assert "is a link; updating %s" % real in proc.stderr


# --------------------------------------------------------------------- inputs: never waited on


FIFO_INPUTS = {
    "config --write into a FIFO ~/.theanorc": (["config", "--theano", "0.8", "--write"], ".theanorc"),
    "parse": (["parse", "{fifo}"], "in.log"),
    "report": (["report", "{fifo}"], "in.log"),
    "compare --matrix": (["compare", "--dry-run", "--stack", sys.executable, "--matrix", "{fifo}"], "m.ini"),
    "stack path tox:ENV with a FIFO tox.ini": (["stack", "path", "tox:py311"], "tox.ini"),
}


@pytest.mark.parametrize("case", sorted(FIFO_INPUTS))
def test_a_fifo_is_refused_never_waited_on(tmp_path, case):
    args, name = FIFO_INPUTS[case]
    fifo = tmp_path / name
    os.mkfifo(str(fifo))
    proc = run_cli("self", [arg.format(fifo=fifo) for arg in args], tmp_path, timeout=30)
    one_line_error(proc, "FIFO")
    assert stat.S_ISFIFO(os.lstat(str(fifo)).st_mode)


def test_parse_reads_standard_input_but_refuses_an_endless_device_there(tmp_path):
    piped = run_cli("self", ["parse", "-"], tmp_path, input=LOG.read_text())
    assert piped.returncode == 0 and "used cpu" in piped.stdout, piped.stderr
    with open(os.devnull, "rb") as empty:
        assert run_cli("self", ["parse", "-"], tmp_path, stdin=empty).returncode == 0
    with open("/dev/zero", "rb") as zeros:
        proc = run_cli("self", ["parse", "-"], tmp_path, stdin=zeros, timeout=30)
    one_line_error(proc, "standard input", "never ends")


@pytest.mark.parametrize("command", [["parse"], ["report"], ["report", "--format", "json"]])
def test_dev_zero_as_an_input_is_refused(tmp_path, command):
    proc = subprocess.run([sys.executable, "-m", "theanogpu", *command, "/dev/zero"], env=cli_env(tmp_path),
                          capture_output=True, text=True, timeout=30, preexec_fn=limited())
    one_line_error(proc, "/dev/zero", "character device")


def test_an_endless_line_on_standard_input_ends_with_a_warning(tmp_path):
    """`cat /dev/zero | theanogpu parse -`: a pipe may not be refused, but it is no log past 256 MiB."""
    feeder = subprocess.Popen(["cat", "/dev/zero"], stdout=subprocess.PIPE)
    try:
        proc = subprocess.run([sys.executable, "-m", "theanogpu", "parse", "-"], stdin=feeder.stdout,
                              env=cli_env(tmp_path), capture_output=True, text=True, timeout=120,
                              preexec_fn=limited())
    finally:
        feeder.kill()
        feeder.wait()
    assert proc.returncode == 0, proc.stderr
    assert "reading stopped there" in proc.stdout


# ------------------------------------------------------------------------------------- modes


@pytest.mark.parametrize("umask,mode", [(0o077, 0o600), (0o022, 0o644), (0o027, 0o640)])
def test_a_new_theanorc_gets_the_mode_the_umask_allows(who, user_dir, umask, mode):
    proc = run_cli(who, ["config", "--theano", "0.8", "--write"], user_dir, umask=umask)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(str(user_dir / ".theanorc")).st_mode) == mode


def test_an_existing_theanorc_keeps_its_mode_and_owner_and_the_backup_gets_them(who, user_dir):
    target = user_dir / ".theanorc"
    target.write_text(USER_FILE)
    target.chmod(0o640)
    owner = 12345 if who == "self" and IS_ROOT else os.stat(str(user_dir)).st_uid
    if who == "self" and IS_ROOT:
        os.chown(str(target), owner, owner)  # root edits someone else's file: it stays theirs
    give(target, who)
    owner = os.stat(str(target)).st_uid
    proc = run_cli(who, ["config", "--theano", "0.8", "--write"], user_dir, umask=0o022)
    assert proc.returncode == 0, proc.stderr
    backups = list(user_dir.glob(".theanorc.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == USER_FILE
    for path in (target, backups[0]):
        info = os.stat(str(path))
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o640, owner), path


def test_a_read_only_theanorc_is_refused_without_force(who, user_dir):
    target = user_dir / ".theanorc"
    target.write_text(USER_FILE)
    give(target, who)
    target.chmod(0o444)
    proc = run_cli(who, ["config", "--theano", "0.8", "--write"], user_dir)
    one_line_error(proc, "read-only", "0444", "--force")
    assert target.read_text() == USER_FILE and sorted(p.name for p in user_dir.iterdir()) == [".theanorc"]
    forced = run_cli(who, ["config", "--theano", "0.8", "--write", "--force"], user_dir)
    assert forced.returncode == 0, forced.stderr
    assert "device = gpu" in target.read_text() and stat.S_IMODE(os.stat(str(target)).st_mode) == 0o444


def test_a_read_only_report_is_refused(who, user_dir):
    target = user_dir / "report.txt"
    target.write_text("kept")
    give(target, who)
    target.chmod(0o444)
    proc = run_cli(who, ["report", "--output", target, LOG], user_dir)
    one_line_error(proc, "read-only", "0444")
    assert target.read_text() == "kept"


def test_a_read_only_directory_is_refused(who, user_dir):
    if who == "self" and IS_ROOT:
        pytest.skip("root may write into any directory; the 'user' case checks the refusal")
    folder = user_dir / "ro"
    folder.mkdir()
    (folder / "rc").write_text(USER_FILE)
    give(folder, who)
    give(folder / "rc", who)
    folder.chmod(0o555)
    try:
        proc = run_cli(who, ["config", "--theano", "0.8", "--write", folder / "rc"], user_dir)
        one_line_error(proc, "not writable")
        assert (folder / "rc").read_text() == USER_FILE and len(list(folder.iterdir())) == 1
    finally:
        folder.chmod(0o755)


# ----------------------------------------------------------------------------------- THEANORC


def test_theanorc_entries_follow_theanos_own_rule(tmp_path, monkeypatch):
    """theano/configparser.py: split on os.pathsep, ~ expanded; ConfigParser.read skips what it
    cannot open, so empty entries read nothing and the others still count."""
    monkeypatch.setenv("HOME", str(tmp_path))
    sep = os.pathsep
    assert theanorc_files(sep.join(["", "~/a.rc", "", "/b.rc", ""])) == [str(tmp_path / "a.rc"), "/b.rc"]
    assert choose_target(None, {"THEANORC": sep + "/etc/theano.rc"}).path == Path("/etc/theano.rc")
    target = choose_target(None, {"THEANORC": sep.join(["", "/x.rc", "/y.rc"])})
    assert target.path == Path("/x.rc") and "lists 2 files" in target.notes[0]
    for empty in ("", sep, sep * 3):
        with pytest.raises(UserError, match="THEANORC is set but empty"):
            choose_target(None, {"THEANORC": empty})


def test_config_write_with_a_leading_separator_in_theanorc_writes_the_file_theano_reads(tmp_path):
    rc = tmp_path / "theano.rc"
    proc = run_cli("self", ["config", "--theano", "0.8", "--write"], tmp_path,
                   env=cli_env(tmp_path, THEANORC=os.pathsep + str(rc)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(rc) and "device = gpu" in rc.read_text()


# ------------------------------------------------------------------------------------- bounds


BOUNDS = [
    (["compare", "--dry-run", "--repeat", "99999999999999999999999"], "--repeat", "at most 1000"),
    (["compare", "--dry-run", "--repeat", "1001"], "--repeat", "at most 1000"),
    (["compare", "--dry-run", "--epochs", "99999999999999999999"], "--epochs", "at most"),
    (["compare", "--dry-run", "--samples", "99999999999999999999"], "--samples", "at most"),
    (["compare", "--dry-run", "--variant", "a:device=cpu,threads=99999999999999999999"], "threads", "at most 4096"),
    (["compare", "--dry-run", "--variant", "a:device=cpu,threads=\u00b2"], "threads", "whole number"),
    (["config", "--format", "env", "--threads", "99999999999999999999"], "--threads", "at most 4096"),
    (["config", "--backend", "torch", "--threads", "5000"], "--threads", "at most 4096"),
]


@pytest.mark.parametrize("args,option,words", BOUNDS, ids=[" ".join(a[:4]) for a, _, _ in BOUNDS])
def test_every_count_has_a_bound(tmp_path, args, option, words):
    if args[0] == "compare":
        args = args + ["--stack", sys.executable]
    proc = subprocess.run([sys.executable, "-m", "theanogpu", *args], env=cli_env(tmp_path), capture_output=True,
                          text=True, timeout=60, preexec_fn=limited(), cwd=str(tmp_path))
    one_line_error(proc, option, words)


def test_a_matrix_that_is_a_device_or_too_big_is_refused(tmp_path):
    big = tmp_path / "big.ini"
    with open(str(big), "w") as handle:
        handle.write("[cpu]\ndevice = cpu\n" + "# padding\n" * 1_100_000)
    for matrix, words in (("/dev/zero", "character device"), (str(big), "larger than")):
        proc = subprocess.run([sys.executable, "-m", "theanogpu", "compare", "--dry-run", "--stack", sys.executable,
                               "--matrix", matrix], env=cli_env(tmp_path), capture_output=True, text=True,
                              timeout=60, preexec_fn=limited(), cwd=str(tmp_path))
        one_line_error(proc, "--matrix=%s" % matrix, words)


def test_a_results_file_over_the_bound_is_refused(tmp_path, monkeypatch, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema": 1, "runs": [], "padding": "x" * 5000}))
    monkeypatch.setattr(results, "MAX_BYTES", 4000)
    assert main(["report", str(path), str(LOG)]) == 2
    out, err = capsys.readouterr()
    assert "larger than" in err and str(path) in err and out.startswith("name")


def test_a_theanorc_over_the_bound_is_refused(tmp_path):
    target = tmp_path / ".theanorc"
    with open(str(target), "w") as handle:
        handle.write("[global]\nfloatX = float64\n" + "# padding\n" * 1_100_000)
    size = target.stat().st_size
    proc = run_cli("self", ["config", "--theano", "0.8", "--write"], tmp_path)
    one_line_error(proc, "larger than")
    assert target.stat().st_size == size


# ------------------------------------------------------------------------ temporary files left


def _age(path, seconds):
    past = time.time() - seconds
    os.utime(str(path), (past, past), follow_symlinks=False)


def test_temporary_files_of_killed_writes_are_removed_and_nothing_else(tmp_path):
    old = 2 * fsutil.STALE_TEMP_SECONDS
    # The temporary files of NAME are ".NAME.XXXXXXXX.tmp" (and ".bak.tmp" for the backup's copy).
    stale = [tmp_path / "..theanorc.ab12cd34.tmp", tmp_path / "..theanorc.x_y9z8w7.bak.tmp"]
    kept = [tmp_path / "..theanorc.ef56gh78.tmp",    # fresh: another write may be under way
            tmp_path / "..theanorc.notours",          # not our name pattern
            tmp_path / ".other.ab12cd34.tmp",         # another file's temporary file
            tmp_path / "..theanorc.ab12cd3.tmp",      # one character short
            tmp_path / ".theanorc.ab12cd34.tmp"]      # not the name a write of .theanorc makes
    for path in stale + kept:
        path.write_text("partial")
    link = tmp_path / "..theanorc.lnk12345.tmp"
    link.symlink_to(tmp_path / "..theanorc.notours")  # never follow or remove a link
    for path in stale + kept[1:] + [link]:
        _age(path, old)
    proc = run_cli("self", ["config", "--theano", "0.8", "--write"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not any(path.exists() for path in stale)
    assert all(path.read_text() == "partial" for path in kept) and link.is_symlink()


def test_a_killed_write_leaves_nothing_that_a_later_write_does_not_clean(tmp_path):
    """kill -9 `config --write` as soon as its temporary file appears; once such leftovers are old,
    the next run removes them."""
    target = tmp_path / ".theanorc"
    target.write_text("[global]\nopenmp = False\n" + "".join("# padding %06d %s\n" % (i, "." * 1000)
                                                              for i in range(5000)))
    for value in ("True", "False", "True", "False"):
        proc = subprocess.Popen([sys.executable, "-m", "theanogpu", "config", "--theano", "0.8", "--set",
                                 "openmp=" + value, "--write"], env=cli_env(tmp_path), cwd=str(tmp_path),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and not list(tmp_path.glob("..theanorc.*")):
            pass
        proc.kill()
        proc.wait()
    leftovers = list(tmp_path.glob(".*.tmp"))
    assert leftovers, "no kill landed mid-write"
    for path in leftovers:
        _age(path, 2 * fsutil.STALE_TEMP_SECONDS)
    proc = run_cli("self", ["config", "--theano", "0.8", "--write"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.glob(".*.tmp")) == []


# ------------------------------------------------------------------------------- fsutil units


def test_open_regular_refuses_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    with pytest.raises(fsutil.NotRegularFile, match="FIFO"):
        fsutil.open_regular(fifo)
    with pytest.raises(IsADirectoryError):
        fsutil.open_regular(tmp_path)
    with pytest.raises(fsutil.FileTooLarge):
        (tmp_path / "f").write_bytes(b"x" * 11)
        fsutil.read_limited(tmp_path / "f", 10)
    assert fsutil.read_limited(tmp_path / "f", 11) == b"x" * 11


def test_atomic_write_never_replaces_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    with pytest.raises(fsutil.NotRegularFile):
        fsutil.atomic_write_text(fifo, "x")
    assert stat.S_ISFIFO(os.lstat(str(fifo)).st_mode) and list(tmp_path.iterdir()) == [fifo]
    real = tmp_path / "real"
    real.write_text("old")
    link = tmp_path / "link"
    link.symlink_to(real)
    fsutil.atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_create_exclusive_never_follows_a_planted_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("mine")
    planted = tmp_path / "run.log"
    planted.symlink_to(victim)
    with pytest.raises(FileExistsError):
        fsutil.create_exclusive(planted)
    assert victim.read_text() == "mine"
    fd = fsutil.create_exclusive(tmp_path / "new.log")
    os.close(fd)
    assert stat.S_IMODE((tmp_path / "new.log").stat().st_mode) == 0o666 & ~fsutil.current_umask()


def test_write_target_names_the_descriptor_paths(tmp_path):
    for path in ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        target = fsutil.write_target(path, "x", streams=True)
        assert (target.kind, target.fd) == ("fd", 1), path
        with pytest.raises(UserError, match="not a regular file"):
            fsutil.write_target(path, "x", streams=False)
    assert fsutil.write_target("/dev/stderr", "x", streams=True).fd == 2
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(UserError, match="x: too many levels of symbolic links"):
        fsutil.write_target(loop, "x", streams=True)
