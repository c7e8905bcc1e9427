# Sourced by tools/dist_train.sh and tools/dist_test.sh: torchrun of a tool, one process per GPU.
#   dist_run GPUS TOOL.py [tool args]
# NNODES, NODE_RANK, MASTER_ADDR and PORT place this node in a multi-node job; PYTHON is the
# interpreter (default: python).
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

dist_run() {
    local gpus=$1
    shift
    # exec: no shell stays in between, so a signal to the job's process group reaches torchrun
    # and the ranks only (they save and exit 75), and the exit status is torchrun's
    exec "$PYTHON" -m torch.distributed.run \
        --nnodes="$NNODES" \
        --node_rank="$NODE_RANK" \
        --master_addr="$MASTER_ADDR" \
        --nproc_per_node="$gpus" \
        --master_port="$PORT" \
        "$@"
}
