"""Command line of ``python -m cs231n.datasets`` (private module)."""
from __future__ import annotations

import argparse
import math
import os
import sys

from .. import data_utils
from ._download import (
    CIFAR10_MD5,
    CIFAR10_URL,
    DEFAULT_TIMEOUT,
    ChecksumError,
    DownloadError,
    UnsafeArchiveError,
    _check_md5_arg,
    default_dest,
    download_cifar10,
)


def _md5_arg(text):
    """``--md5``: 32 hex digits, or none/skip/'' for no check; else a usage error."""
    if text.lower() in ("none", "skip", ""):
        return None
    try:
        return _check_md5_arg(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 32 hexadecimal digits or 'none', got {text!r}") from None


def _timeout_arg(text):
    """``--timeout``: a finite number of seconds > 0; else a usage error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def _os_error_message(exc, dest):
    """Describe an ``OSError`` of the download/extract step, naming the path involved.

    Our own ``FileNotFoundError`` / ``FileExistsError`` messages already name it; a
    system error names ``exc.filename`` (and ``exc.filename2``), or else ``dest``
    (the destination folder; ``None`` when the command installs nothing).
    """
    if exc.errno is None or exc.strerror is None:
        return str(exc)
    if exc.filename is None:
        where = f" (while installing CIFAR-10 into {dest})" if dest is not None else ""
        return f"{exc.strerror}{where}"
    text = f"{exc.strerror}: {os.fsdecode(exc.filename)}"
    if exc.filename2 is not None:
        text += f" -> {os.fsdecode(exc.filename2)}"
    return text


def build_parser():
    """The argument parser (subcommands ``download`` and ``where``).

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="python -m cs231n.datasets",
        description="Get the CIFAR-10 data set for the cs231n kit.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dl = sub.add_parser(
        "download", help="download, verify and extract CIFAR-10 (python version)",
        description="Download cifar-10-python.tar.gz, check its MD5 and extract it safely "
        "into DEST/cifar-10-batches-py. Does nothing when that folder is complete.")
    dl.add_argument("--dest", default=None,
                    help=f"folder that receives cifar-10-batches-py (default: {default_dest()})")
    dl.add_argument("--url", default=CIFAR10_URL, help="archive URL, e.g. a mirror (default: %(default)s)")
    dl.add_argument("--archive", default=None,
                    help="use this local cifar-10-python.tar.gz instead of downloading")
    dl.add_argument("--md5", default=CIFAR10_MD5, type=_md5_arg,
                    help="expected MD5 of the archive, or 'none' to skip the check "
                    "(default: the published %(default)s)")
    dl.add_argument("--force", action="store_true",
                    help="replace an existing cifar-10-batches-py and ignore a cached archive")
    dl.add_argument("--keep-archive", action="store_true",
                    help="keep DEST/cifar-10-python.tar.gz after extracting")
    dl.add_argument("--timeout", type=_timeout_arg, default=DEFAULT_TIMEOUT,
                    help="network timeout in seconds (default: %(default)s)")
    dl.add_argument("--quiet", action="store_true", help="no messages, no progress bar")
    sub.add_parser("where", help="print the CIFAR-10 directory the loader would use",
                   description="Print the directory get_CIFAR10_data() would read, or where "
                   "it looked.")
    return parser


def main(argv=None):
    """Run the command line; return the exit status.

    A usage error (unknown option, ``--timeout`` not a number > 0, ``--md5`` not 32
    hex digits) prints the usage and returns 2, like argparse; a failure of the
    download or extract step (network, checksum, unsafe archive, any ``OSError``
    such as a ``--dest`` below a regular file) prints ``error: ...`` naming the
    path and returns 1, without a traceback.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success (also ``--help``), 1 failure, 2 usage error, 130 interrupted.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): return, do not exit
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if args.command == "where":
            print(data_utils.find_cifar10_dir())
            return 0
        path = download_cifar10(
            dest=args.dest, url=args.url, archive=args.archive, md5=args.md5,
            force=args.force, keep_archive=args.keep_archive, timeout=args.timeout,
            progress=not args.quiet, verbose=not args.quiet)
        if args.quiet:
            print(path)
        return 0
    except (DownloadError, ChecksumError, UnsafeArchiveError,
            data_utils.CIFAR10FormatError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # FileNotFoundError, FileExistsError, NotADirectoryError, ...
        dest = None
        if args.command == "download":
            dest = default_dest() if args.dest is None else args.dest
        print(f"error: {_os_error_message(exc, dest)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing incomplete was left behind", file=sys.stderr)
        return 130
