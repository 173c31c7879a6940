"""CIFAR-10 download (``python -m cs231n.datasets download``).

The function API is :func:`download_cifar10`; the command line is

.. code-block:: text

    python -m cs231n.datasets download [--dest DIR] [--url URL] [--archive PATH]
                                       [--md5 HEX|none] [--force] [--keep-archive]
                                       [--timeout S] [--quiet]
    python -m cs231n.datasets where    # print the directory the loader would use

By default the data lands in the kit's top-level ``datasets/cifar-10-batches-py``,
where :func:`cs231n.data_utils.get_CIFAR10_data` finds it. This folder is also the
official CS231n starter's data location (``cs231n/datasets/cifar-10-batches-py``),
which the loader searches as well.
"""
from ._download import (
    ARCHIVE_NAME,
    CIFAR10_MD5,
    CIFAR10_URL,
    REQUIRED_FILES,
    ChecksumError,
    DownloadError,
    UnsafeArchiveError,
    default_dest,
    download_cifar10,
    is_complete,
)

__all__ = [
    "ARCHIVE_NAME",
    "CIFAR10_MD5",
    "CIFAR10_URL",
    "REQUIRED_FILES",
    "ChecksumError",
    "DownloadError",
    "UnsafeArchiveError",
    "default_dest",
    "download_cifar10",
    "is_complete",
]
