#!/usr/bin/env bash
# Evaluation on a Slurm cluster.
#   GPUS=8 bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS as for tools/slurm_train.sh (see tools/slurm_env.sh).
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
source "$(dirname "${BASH_SOURCE[0]}")/slurm_env.sh"

slurm_run $SRUN_ARGS \
    "$PYTHON" -u "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher=slurm "${@:5}"
