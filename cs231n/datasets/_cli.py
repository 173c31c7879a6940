"""Command line of ``python -m cs231n.datasets`` (private module)."""
from __future__ import annotations

import argparse
import sys

from .. import data_utils
from ._download import (
    CIFAR10_MD5,
    CIFAR10_URL,
    ChecksumError,
    DownloadError,
    UnsafeArchiveError,
    default_dest,
    download_cifar10,
)


def _md5_arg(text):
    return None if text.lower() in ("none", "skip", "") else text


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
    dl.add_argument("--timeout", type=float, default=15.0,
                    help="network timeout in seconds (default: %(default)s)")
    dl.add_argument("--quiet", action="store_true", help="no messages, no progress bar")
    sub.add_parser("where", help="print the CIFAR-10 directory the loader would use",
                   description="Print the directory get_CIFAR10_data() would read, or where "
                   "it looked.")
    return parser


def main(argv=None):
    """Run the command line; return the exit status (0 success, 1 failure, 2 usage).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    args = build_parser().parse_args(argv)
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
    except (DownloadError, ChecksumError, UnsafeArchiveError, FileNotFoundError,
            FileExistsError, data_utils.CIFAR10FormatError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing incomplete was left behind", file=sys.stderr)
        return 130
