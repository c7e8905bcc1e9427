#!/usr/bin/env bash
# Training on a Slurm cluster, preemption-safe.
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
#
# srun asks Slurm to send SIGUSR1 to every task SIGNAL_LEAD seconds (default 120) before the
# job's time limit (`--signal=USR1@120`); Slurm's SIGTERM on preemption or scancel works the
# same way. train.py then finishes its iteration, saves WORK_DIR/iter_N.pth and exits with 75
# ("preempted"). This script then starts the job again with --resume (a new allocation, which
# waits in the queue like a requeue), at most MAX_RESTARTS times (default 10); any other exit
# code ends it. The first run gets --resume too: with nothing in WORK_DIR it starts fresh.
#
# In an sbatch script, request the signal for the job steps and requeue the job instead:
#   #SBATCH --signal=USR1@120   (not B:USR1, which signals only the batch shell)
#   #SBATCH --requeue
#   srun python -u tools/train.py CONFIG --work-dir=WORK_DIR --launcher=slurm --resume
#   [ $? -eq 75 ] && scontrol requeue "$SLURM_JOB_ID"
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
SIGNAL_LEAD=${SIGNAL_LEAD:-120}
MAX_RESTARTS=${MAX_RESTARTS:-10}
PREEMPTED=75
source "$(dirname "${BASH_SOURCE[0]}")/slurm_env.sh"

for ((attempt = 0; ; attempt++)); do
    slurm_run --signal=USR1@"$SIGNAL_LEAD" $SRUN_ARGS \
        "$PYTHON" -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm \
        --resume "${@:5}"
    status=$?
    if [ "$status" -ne "$PREEMPTED" ] || [ "$attempt" -ge "$MAX_RESTARTS" ]; then
        exit "$status"
    fi
    echo "preempted (exit $PREEMPTED): restarting with --resume ($((attempt + 1))/$MAX_RESTARTS)"
done
