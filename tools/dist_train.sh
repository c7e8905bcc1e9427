#!/usr/bin/env bash
# Multi-GPU / multi-node training with torchrun.
#   bash tools/dist_train.sh CONFIG GPUS [train.py args]
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 bash tools/dist_train.sh CONFIG 8
# On a machine without CUDA the processes train on CPU with the gloo backend.
set -e
CONFIG=$1
GPUS=$2
source "$(dirname "${BASH_SOURCE[0]}")/dist_env.sh"
dist_run "$GPUS" "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
