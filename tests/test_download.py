"""Tests of the CIFAR-10 downloader (cs231n.datasets): served from a local HTTP server."""
import hashlib
import http.server
import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from cs231n import data_utils
from cs231n.data_utils import UnsafePickleError, load_CIFAR10
from cs231n.datasets import (
    ChecksumError,
    DownloadError,
    UnsafeArchiveError,
    default_dest,
    download_cifar10,
    is_complete,
)
from cs231n.datasets import _download
from cs231n.datasets._cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta", "readme.html"]


def _md5(data):
    return hashlib.md5(data).hexdigest()


def _tar_gz(add_members):
    """Build a .tar.gz in memory; ``add_members(tar)`` adds the members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        add_members(tar)
    return buf.getvalue()


def _add_bytes(tar, name, data, **attrs):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def official(tmp_path_factory, make_cifar10_tree):
    """A small archive in the official layout and the arrays it holds."""
    root = tmp_path_factory.mktemp("src")
    folder, Xtr, ytr, Xte, yte = make_cifar10_tree(root, n_train=2, n_test=3, seed=7)
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    data = _tar_gz(lambda tar: tar.add(folder, arcname="cifar-10-batches-py"))
    path = tmp_path_factory.mktemp("archive") / "cifar-10-python.tar.gz"
    path.write_bytes(data)
    return {"bytes": data, "md5": _md5(data), "path": path, "folder": folder,
            "Xtr": Xtr, "ytr": ytr, "Xte": Xte, "yte": yte}


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}
    hits = []

    def do_GET(self):  # noqa: N802 - http.server API
        self.hits.append(self.path)
        kind, body = self.routes.get(self.path, ("missing", b""))
        if kind == "missing":
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "full":
            self.wfile.write(body)
        else:  # "truncated": promise len(body) bytes, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(official):
    _Handler.routes = {
        "/cifar-10-python.tar.gz": ("full", official["bytes"]),
        "/truncated.tar.gz": ("truncated", official["bytes"]),
    }
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def dead_url():
    """A URL on a local port nobody listens on (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"


def _run(dest, **kwargs):
    kwargs.setdefault("progress", False)
    kwargs.setdefault("verbose", False)
    return download_cifar10(dest, **kwargs)


def _assert_loaded_equals(folder, official):
    Xtr, ytr, Xte, yte = load_CIFAR10(folder)
    expect_tr = official["Xtr"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    expect_te = official["Xte"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(Xtr, expect_tr)
    np.testing.assert_array_equal(Xte, expect_te)
    assert ytr.tolist() == official["ytr"].tolist() and yte.tolist() == official["yte"].tolist()


def _listing(dest):
    return sorted(p.name for p in Path(dest).iterdir()) if Path(dest).exists() else []


# --------------------------------------------------------------------------- #
# Downloads that work
# --------------------------------------------------------------------------- #
def test_download_verify_extract_load(tmp_path, server, official):
    dest = tmp_path / "datasets"
    out = _run(dest, url=server + "/cifar-10-python.tar.gz", md5=official["md5"])
    assert out == dest / "cifar-10-batches-py"
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert is_complete(out)
    _assert_loaded_equals(out, official)
    # the archive is deleted like the official script does; no temporary leftovers
    assert _listing(dest) == ["cifar-10-batches-py"]


def test_keep_archive(tmp_path, server, official):
    dest = tmp_path / "d"
    _run(dest, url=server + "/cifar-10-python.tar.gz", md5=official["md5"], keep_archive=True)
    assert (dest / "cifar-10-python.tar.gz").read_bytes() == official["bytes"]
    assert _listing(dest) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]


def test_progress_and_messages(tmp_path, server, official, capsys):
    _run(tmp_path, url=server + "/cifar-10-python.tar.gz", md5=official["md5"],
         progress=True, verbose=True)
    out, err = capsys.readouterr()
    assert "Downloading" in out and "ready at" in out
    assert "cifar-10-python.tar.gz" in err          # the tqdm bar's description


def test_nothing_to_do_when_complete(tmp_path, server, official, dead_url, capsys):
    dest = tmp_path / "d"
    _run(dest, url=server + "/cifar-10-python.tar.gz", md5=official["md5"])
    before = len(_Handler.hits)
    marker = dest / "cifar-10-batches-py" / "data_batch_1"
    stamp = marker.stat().st_mtime_ns
    out = _run(dest, url=dead_url, md5=official["md5"], verbose=True)
    assert out == dest / "cifar-10-batches-py"
    assert "nothing to do" in capsys.readouterr().out
    assert len(_Handler.hits) == before and marker.stat().st_mtime_ns == stamp


def test_verified_cached_archive_is_reused(tmp_path, official, dead_url):
    dest = tmp_path / "d"
    dest.mkdir()
    shutil.copy(official["path"], dest / "cifar-10-python.tar.gz")
    out = _run(dest, url=dead_url, md5=official["md5"])      # no network needed
    _assert_loaded_equals(out, official)
    assert _listing(dest) == ["cifar-10-batches-py"]


def test_local_archive(tmp_path, official, dead_url):
    dest = tmp_path / "d"
    out = _run(dest, url=dead_url, archive=official["path"], md5=official["md5"])
    _assert_loaded_equals(out, official)
    assert official["path"].is_file()                         # a given archive is kept


def test_force_replaces_existing_folder(tmp_path, official):
    dest = tmp_path / "d"
    old = dest / "cifar-10-batches-py"
    old.mkdir(parents=True)
    (old / "stale.txt").write_text("old")
    with pytest.raises(FileExistsError, match="incomplete"):
        _run(dest, archive=official["path"], md5=official["md5"])
    assert (old / "stale.txt").exists()                      # untouched without force
    out = _run(dest, archive=official["path"], md5=official["md5"], force=True)
    assert not (out / "stale.txt").exists()
    _assert_loaded_equals(out, official)
    assert _listing(dest) == ["cifar-10-batches-py"]


def test_old_leftovers_are_removed(tmp_path, official):
    dest = tmp_path / "d"
    dest.mkdir()
    stale = dest / ".cifar-10-python.tar.gz.abc123.part"
    fresh = dest / ".cifar-10-python.tar.gz.def456.part"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    past = time.time() - 3600
    os.utime(stale, (past, past))
    _run(dest, archive=official["path"], md5=official["md5"])
    assert not stale.exists() and fresh.exists()


def test_default_dest_is_kit_datasets_folder(monkeypatch, tmp_path):
    assert default_dest() == REPO_ROOT / "datasets"          # this checkout
    monkeypatch.setattr(data_utils, "KIT_DATASETS_DIR", tmp_path / "site-packages" / "datasets")
    assert default_dest() == Path(data_utils.STARTER_DATASETS_DIR)  # installed package


# --------------------------------------------------------------------------- #
# Failures leave nothing that looks complete
# --------------------------------------------------------------------------- #
def test_bad_md5_refused_and_nothing_left(tmp_path, server):
    dest = tmp_path / "d"
    with pytest.raises(ChecksumError, match="expected 0{32}"):
        _run(dest, url=server + "/cifar-10-python.tar.gz", md5="0" * 32)
    assert _listing(dest) == []


def test_local_archive_bad_md5(tmp_path, official):
    dest = tmp_path / "d"
    with pytest.raises(ChecksumError):
        _run(dest, archive=official["path"], md5="f" * 32)
    assert _listing(dest) == [] and official["path"].is_file()


def test_interrupted_download_leaves_nothing(tmp_path, server, official):
    dest = tmp_path / "d"
    with pytest.raises(DownloadError) as err:
        _run(dest, url=server + "/truncated.tar.gz", md5=official["md5"])
    half, total = len(official["bytes"]) // 2, len(official["bytes"])
    assert f"received {half} of {total} bytes" in str(err.value)
    assert _listing(dest) == []


def test_unreachable_url_fails_with_hand_placement_message(tmp_path, dead_url):
    dest = tmp_path / "d"
    with pytest.raises(DownloadError) as err:
        _run(dest, url=dead_url)
    msg = str(err.value)
    assert dead_url in msg
    assert str(dest / "cifar-10-batches-py") in msg
    assert "CS231N_CIFAR10_DIR" in msg and "--archive" in msg
    assert _listing(dest) == []


def test_http_error(tmp_path, server):
    with pytest.raises(DownloadError, match="HTTP 404"):
        _run(tmp_path / "d", url=server + "/nope.tar.gz")


def test_silent_server_times_out(tmp_path):
    # Accepts connections (kernel backlog) but never answers: the timeout must fire.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/x.tar.gz"
    result = {}

    def attempt():
        try:
            _run(tmp_path / "d", url=url, timeout=0.3)
        except Exception as exc:  # noqa: BLE001 - recorded and checked below
            result["exc"] = exc

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(20)                      # hang guard only; the timeout is 0.3 s
    listener.close()
    assert not worker.is_alive(), "the download ignored its timeout"
    assert isinstance(result.get("exc"), DownloadError)
    assert "timed out" in str(result["exc"]) and "CS231N_CIFAR10_DIR" in str(result["exc"])
    assert _listing(tmp_path / "d") == []


def test_interrupted_extraction_leaves_nothing(tmp_path, official, monkeypatch):
    calls = {"n": 0}
    real = shutil.copyfileobj

    def flaky(src, dst, length=0):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(src, dst, length)

    monkeypatch.setattr(_download.shutil, "copyfileobj", flaky)
    dest = tmp_path / "d"
    with pytest.raises(KeyboardInterrupt):
        _run(dest, archive=official["path"], md5=official["md5"])
    assert calls["n"] == 3
    assert _listing(dest) == []


# --------------------------------------------------------------------------- #
# Malicious or wrong archives
# --------------------------------------------------------------------------- #
def _folder_members(tar, official, skip=()):
    for name in FILES:
        if name not in skip:
            tar.add(official["folder"] / name, arcname=f"cifar-10-batches-py/{name}")


def _evil_cases(victim):
    def absolute(tar):
        _add_bytes(tar, str(victim / "abs.txt"), b"owned")

    def dotdot(tar):
        _add_bytes(tar, "cifar-10-batches-py/../../../../victim/dotdot.txt", b"owned")

    def symlink_out(tar):
        _add_bytes(tar, "cifar-10-batches-py/link", b"", type=tarfile.SYMTYPE,
                   linkname=str(victim))
        _add_bytes(tar, "cifar-10-batches-py/link/through.txt", b"owned")

    def relative_symlink_out(tar):
        _add_bytes(tar, "cifar-10-batches-py/up", b"", type=tarfile.SYMTYPE,
                   linkname="../../../../victim")
        _add_bytes(tar, "cifar-10-batches-py/up/rel.txt", b"owned")

    def hardlink_out(tar):
        _add_bytes(tar, "cifar-10-batches-py/hard", b"", type=tarfile.LNKTYPE,
                   linkname=str(victim / "secret.txt"))

    def device(tar):
        _add_bytes(tar, "cifar-10-batches-py/dev", b"", type=tarfile.CHRTYPE,
                   devmajor=1, devminor=3)

    def fifo(tar):
        _add_bytes(tar, "cifar-10-batches-py/fifo", b"", type=tarfile.FIFOTYPE)

    def outside_folder(tar):
        _add_bytes(tar, "other/file.txt", b"x")

    return {
        "absolute": (absolute, "absolute path"),
        "dotdot": (dotdot, "'..'"),
        "symlink": (symlink_out, "symbolic link"),
        "relative_symlink": (relative_symlink_out, "symbolic link"),
        "hardlink": (hardlink_out, "hard link"),
        "device": (device, "device"),
        "fifo": (fifo, "FIFO"),
        "outside_folder": (outside_folder, "outside cifar-10-batches-py"),
    }


@pytest.mark.parametrize("stdlib_filter", [True, False], ids=["with_data_filter", "own_checks_only"])
@pytest.mark.parametrize("case", ["absolute", "dotdot", "symlink", "relative_symlink",
                                  "hardlink", "device", "fifo", "outside_folder"])
def test_malicious_archive_refused(tmp_path, official, monkeypatch, case, stdlib_filter):
    if not stdlib_filter:  # as on Python 3.10 builds older than 3.10.12
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tarfile.data_filter")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "secret.txt").write_text("secret")
    add_evil, fragment = _evil_cases(victim)[case]

    def members(tar):
        _folder_members(tar, official, skip=("test_batch",))
        add_evil(tar)                  # after some real files: extraction has started
        _folder_members(tar, official, skip=FILES[:5] + FILES[6:])

    data = _tar_gz(members)
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(data)
    dest = tmp_path / "dest" / "datasets"
    with pytest.raises(UnsafeArchiveError, match=fragment):
        _run(dest, archive=archive, md5=_md5(data))
    assert sorted(p.name for p in victim.iterdir()) == ["secret.txt"]
    assert (victim / "secret.txt").read_text() == "secret"
    assert _listing(dest) == []


def test_size_limit(tmp_path, official, monkeypatch):
    monkeypatch.setattr(_download, "MAX_EXTRACTED_BYTES", 10_000)
    with pytest.raises(UnsafeArchiveError, match="more than 10000 bytes"):
        _run(tmp_path / "d", archive=official["path"], md5=None)
    assert _listing(tmp_path / "d") == []


def test_archive_missing_files(tmp_path, official):
    data = _tar_gz(lambda tar: _folder_members(tar, official, skip=("test_batch",)))
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(data)
    with pytest.raises(UnsafeArchiveError, match="lacks test_batch"):
        _run(tmp_path / "d", archive=archive, md5=_md5(data))
    assert _listing(tmp_path / "d") == []


def test_corrupt_archive(tmp_path, official):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(official["bytes"][: len(official["bytes"]) // 2])
    with pytest.raises(UnsafeArchiveError, match="not a readable"):
        _run(tmp_path / "d", archive=archive, md5=None)
    assert _listing(tmp_path / "d") == []


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def test_planted_pickle_inside_archive_is_refused(tmp_path, official):
    import pickle

    def members(tar):
        _folder_members(tar, official, skip=("data_batch_2",))
        _add_bytes(tar, "cifar-10-batches-py/data_batch_2",
                   pickle.dumps({"data": _Evil(), "labels": [0]}, protocol=2))

    data = _tar_gz(members)
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(data)
    with pytest.raises(UnsafePickleError, match="data_batch_2"):
        _run(tmp_path / "d", archive=archive, md5=_md5(data))
    assert _listing(tmp_path / "d") == []


def test_bad_arguments(tmp_path, official):
    with pytest.raises(ValueError, match="md5"):
        _run(tmp_path, archive=official["path"], md5="xyz")
    with pytest.raises(ValueError, match="timeout"):
        _run(tmp_path, archive=official["path"], timeout=0)
    with pytest.raises(FileNotFoundError, match="archive"):
        _run(tmp_path, archive=tmp_path / "none.tar.gz")
    with pytest.raises(TypeError, match="dest"):
        _run(5)


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #
def test_cli_download_and_where(tmp_path, official, monkeypatch, capsys):
    dest = tmp_path / "d"
    rc = main(["download", "--archive", str(official["path"]), "--dest", str(dest),
               "--md5", official["md5"], "--quiet"])
    assert rc == 0
    assert capsys.readouterr().out.strip() == str(dest / "cifar-10-batches-py")
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(dest / "cifar-10-batches-py"))
    assert main(["where"]) == 0
    assert capsys.readouterr().out.strip() == str(dest / "cifar-10-batches-py")


def test_cli_failure_is_a_message_not_a_traceback(tmp_path, dead_url, capsys):
    rc = main(["download", "--url", dead_url, "--dest", str(tmp_path / "d"), "--quiet",
               "--timeout", "2"])
    assert rc == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Could not download") and "Traceback" not in err
    assert "CS231N_CIFAR10_DIR" in err


def test_cli_md5_none(tmp_path, official, capsys):
    assert main(["download", "--archive", str(official["path"]), "--dest", str(tmp_path),
                 "--md5", "none", "--quiet"]) == 0
    assert is_complete(tmp_path / "cifar-10-batches-py")


@pytest.mark.parametrize("script", ["datasets/get_datasets.sh", "cs231n/datasets/get_datasets.sh"])
def test_get_datasets_sh_wraps_the_module(tmp_path, official, script):
    # the official starter's location hands over to datasets/get_datasets.sh with
    # --dest set to its own folder; a --dest given after it wins (argparse: the last)
    env = {k: v for k, v in os.environ.items() if k != "CS231N_CIFAR10_DIR"}
    env["PYTHON"] = sys.executable
    proc = subprocess.run(
        ["bash", str(REPO_ROOT / script), "--archive",
         str(official["path"]), "--dest", "out", "--md5", official["md5"], "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == tmp_path / "out" / "cifar-10-batches-py"
    _assert_loaded_equals(tmp_path / "out" / "cifar-10-batches-py", official)


@pytest.mark.parametrize("script", ["datasets/get_datasets.sh", "cs231n/datasets/get_datasets.sh"])
def test_get_datasets_sh_outside_the_environment_says_what_to_do(tmp_path, script):
    """An interpreter without numpy (here: this one with site-packages switched off)."""
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S -I "$@"\n')
    fake.chmod(0o755)
    probe = subprocess.run([str(fake), "-c", "import numpy"], capture_output=True)
    assert probe.returncode != 0                       # the stand-in really lacks numpy
    env = {k: v for k, v in os.environ.items() if k != "CS231N_CIFAR10_DIR"}
    env["PYTHON"] = str(fake)
    proc = subprocess.run(["bash", str(REPO_ROOT / script), "--dest", str(tmp_path / "d")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "numpy" in proc.stderr
    assert "PYTHON=" in proc.stderr and "pip install -e ." in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "d").exists()

def test_cli_dest_below_a_regular_file_is_an_error_not_a_traceback(tmp_path, official, capsys):
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    dest = afile / "x"
    rc = main(["download", "--dest", str(dest), "--archive", str(official["path"]),
               "--md5", official["md5"], "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("error: Not a directory") and str(dest) in err
    assert "Traceback" not in err
    assert afile.read_text() == "not a folder\n"


@pytest.mark.parametrize("exc, shown", [
    (OSError(28, "No space left on device"), "No space left on device (while installing"),
    (PermissionError(13, "Permission denied", "/some/where/file"),
     "Permission denied: /some/where/file"),
    (FileNotFoundError(2, "No such file or directory", "/a/b", None, "/c/d"),
     "No such file or directory: /a/b -> /c/d"),
])
def test_cli_any_os_error_is_a_message_naming_the_path(tmp_path, official, monkeypatch,
                                                       capsys, exc, shown):
    def failing_install(*args, **kwargs):
        raise exc

    monkeypatch.setattr(_download, "_install", failing_install)
    dest = tmp_path / "d"
    rc = main(["download", "--dest", str(dest), "--archive", str(official["path"]),
               "--md5", official["md5"], "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("error: " + shown) and "Traceback" not in err
    if exc.filename is None:
        assert str(dest) in err


@pytest.mark.parametrize("argv, fragment", [
    (["--timeout", "-1"], "argument --timeout: must be a finite number > 0"),
    (["--timeout", "0"], "argument --timeout: must be a finite number > 0"),
    (["--timeout", "nan"], "argument --timeout: must be a finite number > 0"),
    (["--timeout", "inf"], "argument --timeout: must be a finite number > 0"),
    (["--timeout", "soon"], "argument --timeout: expected a number of seconds"),
    (["--md5", "xyz"], "argument --md5: expected 32 hexadecimal digits"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_cli_usage_errors_exit_2_with_usage(tmp_path, capsys, argv, fragment):
    dest = tmp_path / "d"
    assert main(["download", "--dest", str(dest), "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m cs231n.datasets") and fragment in err
    assert not dest.exists()


def test_cli_help_returns_zero(capsys):
    assert main(["download", "--help"]) == 0
    assert "--timeout" in capsys.readouterr().out


def test_failed_download_removes_the_empty_dest_it_created(tmp_path, dead_url, capsys):
    dest = tmp_path / "new" / "deeper" / "d"
    with pytest.raises(DownloadError):
        _run(dest, url=dead_url)
    assert not (tmp_path / "new").exists()
    # through the command line too
    assert main(["download", "--url", dead_url, "--dest", str(dest), "--quiet"]) == 1
    assert not (tmp_path / "new").exists()


def test_failed_download_keeps_folders_it_did_not_create_or_that_hold_files(
        tmp_path, dead_url, server, official, monkeypatch):
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(DownloadError):
        _run(existing / "d", url=dead_url)
    assert existing.is_dir() and _listing(existing) == []
    # the download worked, the extraction failed: the verified archive stays for a rerun
    def failing_install(*args, **kwargs):
        raise UnsafeArchiveError("extraction failed")

    monkeypatch.setattr(_download, "_install", failing_install)
    dest = tmp_path / "fresh" / "d"
    with pytest.raises(UnsafeArchiveError):
        _run(dest, url=server + "/cifar-10-python.tar.gz", md5=official["md5"])
    assert _listing(dest) == ["cifar-10-python.tar.gz"]
