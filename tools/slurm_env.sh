# Sourced by tools/slurm_train.sh and tools/slurm_test.sh: srun of a job on a Slurm partition.
#   slurm_run [more srun options] COMMAND...   (after PARTITION and JOB_NAME are set)
# GPUS (default 8) tasks, GPUS_PER_NODE (8) per node, CPUS_PER_TASK (5) CPUs each; SRUN_ARGS
# are passed on to srun; PYTHON is the interpreter (default: python).
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

slurm_run() {
    PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
    srun -p "$PARTITION" \
        --job-name="$JOB_NAME" \
        --gres=gpu:"$GPUS_PER_NODE" \
        --ntasks="$GPUS" \
        --ntasks-per-node="$GPUS_PER_NODE" \
        --cpus-per-task="$CPUS_PER_TASK" \
        --kill-on-bad-exit=1 \
        "$@"
}
