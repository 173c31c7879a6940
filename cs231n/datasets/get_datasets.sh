#!/usr/bin/env bash
# Where the official CS231n starter keeps its script (`cd cs231n/datasets && bash
# get_datasets.sh`): download CIFAR-10 into this folder
# (cs231n/datasets/cifar-10-batches-py), which the loader also searches.
# All options go to `python -m cs231n.datasets download` (see --help).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kit_root="$(cd "${here}/../.." && pwd)"
python="${PYTHON:-$(command -v python3 || command -v python)}"
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
exec "$python" -m cs231n.datasets download --dest "${here}" "$@"
