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
exec "$python" -m cs231n.datasets download --dest "${here}" "$@"
