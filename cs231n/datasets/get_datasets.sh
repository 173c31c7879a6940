#!/usr/bin/env bash
# Where the official CS231n starter keeps its script (`cd cs231n/datasets && bash
# get_datasets.sh`): download CIFAR-10 into this folder
# (cs231n/datasets/cifar-10-batches-py), which the loader also searches.
# The checkout's datasets/get_datasets.sh does the work (interpreter and numpy
# checks included); all options go to `python -m cs231n.datasets download`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "${here}/../../datasets/get_datasets.sh" --dest "${here}" "$@"
