#!/usr/bin/env bash
# Multi-GPU / multi-node evaluation with torchrun.
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# NNODES, NODE_RANK, MASTER_ADDR and PORT as for tools/dist_train.sh (see tools/dist_env.sh).
set -e
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
source "$(dirname "${BASH_SOURCE[0]}")/dist_env.sh"
dist_run "$GPUS" "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
