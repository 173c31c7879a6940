#!/usr/bin/env bash
# Download CIFAR-10 into this folder (datasets/cifar-10-batches-py).
# A thin wrapper: all options go to `python -m cs231n.datasets download`
# (--dest DIR, --url URL, --archive PATH, --md5 HEX|none, --force, --keep-archive,
#  --timeout S, --quiet; see --help). Set PYTHON to choose the interpreter.
set -euo pipefail
kit_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$(command -v python3 || command -v python)}"
# Put this checkout first on the module path (without changing the working
# directory, so relative --dest/--archive paths keep their meaning).
export PYTHONPATH="${kit_root}${PYTHONPATH:+:${PYTHONPATH}}"
exec "$python" -m cs231n.datasets download "$@"
