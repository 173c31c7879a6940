"""Download, verify and safely extract the CIFAR-10 python archive (private module).

Steps of :func:`download_cifar10`, each one atomic so that an interrupted run never
leaves a file or folder that looks complete:

1. nothing to do when ``DEST/cifar-10-batches-py`` already holds all seven files;
2. get the archive: the ``archive`` given, or a verified ``DEST/cifar-10-python.tar.gz``
   left by an earlier run, or a download streamed into a hidden temporary file in
   ``DEST`` that is renamed to ``cifar-10-python.tar.gz`` only once its length and MD5
   check out;
3. extract member by member into a hidden temporary folder in ``DEST`` after checking
   each member (regular files and folders under ``cifar-10-batches-py/`` only: no
   absolute paths, no ``..``, no links, no devices, bounded total size), validate the
   batches with the restricted loader, then rename the folder into place.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import re
import shutil
import socket
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from .. import data_utils
from .._checks import check_positive_float
from ..data_utils import CIFAR10_FOLDER, ENV_VAR, META_FILE, TEST_BATCH, TRAIN_BATCHES

#: Network timeout in seconds of every download (library call and both commands).
DEFAULT_TIMEOUT = 15.0

__all__ = [
    "CIFAR10_URL",
    "CIFAR10_MD5",
    "ARCHIVE_NAME",
    "REQUIRED_FILES",
    "DownloadError",
    "ChecksumError",
    "UnsafeArchiveError",
    "default_dest",
    "is_complete",
    "download_cifar10",
]

#: Official location of the python version of CIFAR-10.
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
#: MD5 published on https://www.cs.toronto.edu/~kriz/cifar.html for that archive.
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
#: File name of the archive.
ARCHIVE_NAME = "cifar-10-python.tar.gz"
#: Files that make an extracted ``cifar-10-batches-py`` complete.
REQUIRED_FILES = TRAIN_BATCHES + (TEST_BATCH, META_FILE)
#: Refuse archives that would extract to more than this (the real one: ~178 MB).
MAX_EXTRACTED_BYTES = 1 << 30
#: Leftover temporary files/folders older than this (seconds) are removed.
STALE_SECONDS = 600.0

_CHUNK = 1 << 20
_PART_PREFIX = ".cifar-10-python.tar.gz."
_PART_SUFFIX = ".part"
_EXTRACT_PREFIX = ".cifar-10-extract-"
_OLD_PREFIX = ".cifar-10-batches-py.old-"


class DownloadError(RuntimeError):
    """The archive could not be fetched (network, HTTP error, short transfer)."""


class ChecksumError(DownloadError):
    """The archive's MD5 differs from the expected one."""


class UnsafeArchiveError(ValueError):
    """The archive holds a member that could write outside the target folder, or is
    not shaped like the official CIFAR-10 archive."""


def default_dest():
    """Folder that receives ``cifar-10-batches-py`` when no ``dest`` is given.

    The kit's top-level ``datasets/`` folder in a source checkout (recognised by its
    ``get_datasets.sh``); otherwise (an installed package) the official starter's
    ``cs231n/datasets/``. Both are searched by :func:`cs231n.data_utils.find_cifar10_dir`.

    Returns
    -------
    pathlib.Path
    """
    kit = Path(data_utils.KIT_DATASETS_DIR)
    if (kit / "get_datasets.sh").is_file():
        return kit
    return Path(data_utils.STARTER_DATASETS_DIR)


def is_complete(folder):
    """Whether ``folder`` holds every file of an extracted CIFAR-10 archive.

    Parameters
    ----------
    folder : str or os.PathLike
        A ``cifar-10-batches-py`` directory.

    Returns
    -------
    bool
        True when ``data_batch_1..5``, ``test_batch`` and ``batches.meta`` are all
        regular files in ``folder``.
    """
    folder = Path(folder)
    return all((folder / name).is_file() for name in REQUIRED_FILES)


def _hand_placement(dest):
    return (
        "To install CIFAR-10 by hand: on a machine with network access download "
        f"{CIFAR10_URL} (MD5 {CIFAR10_MD5}), then either run\n"
        f"    python -m cs231n.datasets download --archive /path/to/{ARCHIVE_NAME}\n"
        f"or extract it so that {Path(dest) / CIFAR10_FOLDER} holds "
        f"{', '.join(REQUIRED_FILES)},\n"
        f"or extract it anywhere and set {ENV_VAR}=/that/place/{CIFAR10_FOLDER}."
    )


def _check_md5_arg(md5):
    if md5 is None:
        return None
    if not isinstance(md5, str) or not re.fullmatch(r"[0-9a-fA-F]{32}", md5):
        raise ValueError(f"md5 must be 32 hexadecimal digits or None (no check), got {md5!r}")
    return md5.lower()


def _file_md5(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove(path):
    """Delete a file or folder if it exists; never raise."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except OSError:
        pass


def _remove_stale(dest):
    """Remove temporary files/folders an earlier, killed run left in ``dest``."""
    now = time.time()
    for entry in dest.iterdir():
        name = entry.name
        ours = (name.startswith(_PART_PREFIX) and name.endswith(_PART_SUFFIX)) \
            or name.startswith(_EXTRACT_PREFIX) or name.startswith(_OLD_PREFIX)
        try:
            old = now - entry.lstat().st_mtime > STALE_SECONDS
        except OSError:
            continue
        if ours and old:
            _remove(entry)


def _fetch(url, dest, md5, timeout, progress, log):
    """Stream ``url`` into ``dest/cifar-10-python.tar.gz`` atomically; return its path."""
    fd, tmp_name = tempfile.mkstemp(prefix=_PART_PREFIX, suffix=_PART_SUFFIX, dir=dest)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "cs231n-bn downloader"})
            try:
                response = urllib.request.urlopen(request, timeout=timeout)
            except urllib.error.HTTPError as exc:
                raise DownloadError(
                    f"Could not download {url}: HTTP {exc.code} {exc.reason}.\n"
                    + _hand_placement(dest)) from exc
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DownloadError(
                    f"Could not download {url}: {reason} (no network? timeout {timeout:g} s).\n"
                    + _hand_placement(dest)) from exc
            with response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                digest = hashlib.md5(usedforsecurity=False)
                received = 0
                log(f"Downloading {url} to {dest}")
                bar = _progress_bar(total, progress)
                try:
                    while True:
                        try:
                            block = response.read(_CHUNK)
                        except (OSError, socket.timeout, ValueError,
                                http.client.HTTPException) as exc:
                            raise DownloadError(
                                f"Download of {url} interrupted after {received} bytes: "
                                f"{type(exc).__name__}: {exc}.\n" + _hand_placement(dest)) from exc
                        if not block:
                            break
                        out.write(block)
                        digest.update(block)
                        received += len(block)
                        bar.update(len(block))
                finally:
                    bar.close()
            if total is not None and received != total:
                raise DownloadError(
                    f"Download of {url} incomplete: received {received} of {total} bytes "
                    "(connection closed early); nothing was kept, run the command again.\n"
                    + _hand_placement(dest))
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if md5 is not None and actual != md5:
            raise ChecksumError(
                f"MD5 of the archive downloaded from {url} is {actual}, expected {md5}; "
                "the file was deleted. The transfer was corrupted or the mirror serves "
                "another file (pass --md5 only if you trust it).")
        final = dest / ARCHIVE_NAME
        os.replace(tmp, final)
        return final
    except BaseException:
        _remove(tmp)
        raise


def _progress_bar(total, enabled):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency, but a progress bar is optional
        enabled = False
    if not enabled:
        class _Null:
            def update(self, n):
                pass

            def close(self):
                pass
        return _Null()
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                desc=ARCHIVE_NAME, file=sys.stderr)


def _member_parts(member):
    """Check a member's name and type; return its path components (``()`` to skip)."""
    name = member.name
    if "\x00" in name or "\\" in name:
        raise UnsafeArchiveError(f"archive member {name!r}: illegal character in the name")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchiveError(f"archive member {name!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"archive member {name!r} contains '..' (path traversal)")
    if member.issym() or member.islnk():
        kind = "symbolic link" if member.issym() else "hard link"
        raise UnsafeArchiveError(
            f"archive member {name!r} is a {kind} to {member.linkname!r}; the CIFAR-10 "
            "archive holds only regular files and folders")
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(
            f"archive member {name!r} is a device, FIFO or other special file; refused")
    if not parts:
        return ()
    if parts[0] != CIFAR10_FOLDER:
        raise UnsafeArchiveError(
            f"archive member {name!r} lies outside {CIFAR10_FOLDER}/; this is not the "
            "CIFAR-10 python archive")
    return tuple(parts)


def _extract(archive, workdir):
    """Extract the checked members of ``archive`` into ``workdir``."""
    use_stdlib_filter = hasattr(tarfile, "data_filter")
    total = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = _member_parts(member)
                if use_stdlib_filter:
                    # Second opinion from the standard library (Python >= 3.10.12).
                    try:
                        tarfile.data_filter(member, str(workdir))
                    except tarfile.FilterError as exc:
                        raise UnsafeArchiveError(f"archive member {member.name!r}: {exc}") from exc
                if not parts:
                    continue
                target = workdir.joinpath(*parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                total += member.size
                if total > MAX_EXTRACTED_BYTES:
                    raise UnsafeArchiveError(
                        f"archive would extract to more than {MAX_EXTRACTED_BYTES} bytes; refused")
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                # "xb": a duplicate member name cannot overwrite an earlier file.
                with source, open(target, "xb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
    except FileExistsError as exc:
        raise UnsafeArchiveError(f"{archive}: duplicate member {exc.filename}") from exc
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise UnsafeArchiveError(
            f"{archive} is not a readable .tar.gz (truncated or corrupt: {exc}); delete it "
            "and download again") from exc


def _install(archive, dest, target, force, validate, log):
    """Extract ``archive`` and move ``cifar-10-batches-py`` into ``target`` atomically."""
    workdir = Path(tempfile.mkdtemp(prefix=_EXTRACT_PREFIX, dir=dest))
    try:
        log(f"Extracting {archive}")
        _extract(archive, workdir)
        extracted = workdir / CIFAR10_FOLDER
        missing = [n for n in REQUIRED_FILES if not (extracted / n).is_file()]
        if missing:
            raise UnsafeArchiveError(
                f"{archive} does not hold the CIFAR-10 python data: {CIFAR10_FOLDER}/ lacks "
                + ", ".join(missing))
        if validate:
            for name in TRAIN_BATCHES + (TEST_BATCH,):
                data_utils._read_batch(extracted / name)
        old = None
        if target.exists() or target.is_symlink():
            if not force:  # appeared while we were working
                raise FileExistsError(f"{target} exists; pass force=True (--force) to replace it")
            old = Path(tempfile.mkdtemp(prefix=_OLD_PREFIX, dir=dest)) / CIFAR10_FOLDER
            os.rename(target, old)
        try:
            os.rename(extracted, target)
        except BaseException:
            if old is not None:
                os.rename(old, target)
            raise
        if old is not None:
            _remove(old.parent)
    finally:
        _remove(workdir)


def download_cifar10(dest=None, url=CIFAR10_URL, archive=None, *, md5=CIFAR10_MD5,
                     force=False, keep_archive=False, timeout=DEFAULT_TIMEOUT, progress=True,
                     validate=True, verbose=True):
    """Download CIFAR-10 (python version) and extract it to ``dest/cifar-10-batches-py``.

    Safe to rerun: when the folder is complete nothing is done; a verified archive
    already in ``dest`` is reused instead of downloaded again. See the module
    docstring for the atomicity and extraction-safety guarantees.

    Parameters
    ----------
    dest : str or os.PathLike, optional
        Folder that receives ``cifar-10-batches-py`` (created if needed); default
        :func:`default_dest` (the kit's ``datasets/``).
    url : str, optional
        Where to fetch ``cifar-10-python.tar.gz`` (official URL, or a mirror).
    archive : str or os.PathLike, optional
        A local ``cifar-10-python.tar.gz`` to use instead of downloading.
    md5 : str or None, optional
        Expected MD5 of the archive (the published one by default); ``None``
        skips the check (the batches are still validated).
    force : bool, optional
        Replace an existing ``cifar-10-batches-py`` and ignore a cached archive.
    keep_archive : bool, optional
        Keep ``dest/cifar-10-python.tar.gz`` after extraction (deleted by default,
        like the official script; a given ``archive`` is never deleted).
    timeout : float, optional
        Seconds to wait for the connection and for each read; without network the
        call fails after at most about this long.
    progress : bool, optional
        Show a tqdm progress bar on stderr.
    validate : bool, optional
        Load every extracted batch with the restricted loader before installing it.
    verbose : bool, optional
        Print what is done.

    Returns
    -------
    pathlib.Path
        The ``cifar-10-batches-py`` folder.

    Raises
    ------
    DownloadError
        Network failure, HTTP error or short transfer (the message says how to
        place the files by hand); nothing is left behind.
    ChecksumError
        MD5 mismatch; the file is deleted (a given ``archive`` is left alone).
    UnsafeArchiveError
        A member could escape the target folder, or the archive is not CIFAR-10.
    FileExistsError
        ``cifar-10-batches-py`` exists but is incomplete and ``force`` is False.
    OSError
        ``dest`` cannot be created or written (e.g. it lies below a regular file).

    On any failure, the folders this call created for ``dest`` are removed again
    when they are empty (a verified downloaded archive is kept for a rerun).
    """
    md5 = _check_md5_arg(md5)
    if not isinstance(url, str) or not url:
        raise TypeError(f"url must be a non-empty string, got {url!r}")
    timeout = check_positive_float("timeout", timeout)
    dest = default_dest() if dest is None else data_utils._check_path("dest", dest)
    dest = dest.expanduser().absolute()
    if archive is not None:
        archive = data_utils._check_path("archive", archive).expanduser().absolute()
        if not archive.is_file():
            raise FileNotFoundError(f"archive {archive} does not exist or is not a file")
    log = print if verbose else (lambda *a, **k: None)

    target = dest / CIFAR10_FOLDER
    if not force:
        if is_complete(target):
            log(f"CIFAR-10 is already complete at {target}; nothing to do.")
            _note_env(target, log)
            return target
        if target.exists() or target.is_symlink():
            missing = [n for n in REQUIRED_FILES if not (target / n).is_file()]
            raise FileExistsError(
                f"{target} exists but is incomplete (missing {', '.join(missing)}); rerun "
                "with --force (force=True) to replace it")
    created = _make_dest(dest)
    try:
        return _get_and_install(dest, target, url, archive, md5, force, keep_archive,
                                timeout, progress, validate, log)
    except BaseException:
        _remove_empty(created)
        raise


def _make_dest(dest):
    """Create ``dest`` and its missing parents; return the folders created, outermost first."""
    missing = []
    for folder in (dest, *dest.parents):
        if os.path.lexists(folder):
            break
        missing.append(folder)
    missing.reverse()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except BaseException:
        _remove_empty(missing)
        raise
    return missing


def _remove_empty(created):
    """Remove the folders a call created (outermost first in ``created``), innermost
    first, as long as they are empty; ``rmdir`` never deletes anything inside."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except FileNotFoundError:
            continue
        except OSError:
            break


def _get_and_install(dest, target, url, archive, md5, force, keep_archive, timeout,
                     progress, validate, log):
    """Steps 2 and 3 of :func:`download_cifar10` once ``dest`` exists; return ``target``."""
    _remove_stale(dest)

    cached = dest / ARCHIVE_NAME
    if archive is not None:
        if md5 is not None:
            actual = _file_md5(archive)
            if actual != md5:
                raise ChecksumError(f"MD5 of {archive} is {actual}, expected {md5}; not used")
        source = archive
    elif not force and cached.is_file() and md5 is not None and _file_md5(cached) == md5:
        log(f"Using the verified archive already at {cached}")
        source = cached
    else:
        if md5 is None:
            log("warning: no MD5 given, the archive is not verified (batches still are)")
        source = _fetch(url, dest, md5, timeout, progress, log)

    _install(source, dest, target, force, validate, log)
    if source == cached:
        if keep_archive:
            log(f"Kept the archive at {cached}")
        else:
            _remove(cached)
    log(f"CIFAR-10 is ready at {target}")
    _note_env(target, log)
    return target


def _note_env(target, log):
    env = os.environ.get(ENV_VAR)
    if env and Path(env).expanduser().resolve() != Path(target).resolve():
        log(f"note: {ENV_VAR} is set to {env}; the loader reads that directory, not {target}")
