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
if [ -z "${python}" ]; then
    echo "error: no python3 or python found; install Python 3 or set PYTHON=/path/to/python" >&2
    exit 1
fi
# The kit needs numpy: say so plainly instead of ending in an ImportError traceback.
if ! "${python}" -c "import numpy" >/dev/null 2>&1; then
    echo "error: ${python} cannot import numpy, which the cs231n kit needs. Activate the" \
         "environment the kit is installed in (pip install -e . in ${kit_root}) and rerun," \
         "or name its interpreter: PYTHON=/path/to/env/bin/python bash $0" >&2
    exit 1
fi
exec "$python" -m cs231n.datasets download "$@"
