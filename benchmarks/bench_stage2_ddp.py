"""Bytes DDP all-reduces per step in an LWS stage 2, by how the backbone is frozen.

    python benchmarks/bench_stage2_ddp.py                       # demo model, then ResNeSt-50
    python benchmarks/bench_stage2_ddp.py --configs configs/demo/digits_lt_stage2_lws.py

Two gloo ranks on CPU train the config's model (LWSHead: only the per-class scales learn) for a
few steps; a DDP communication hook adds up the bytes of every bucket it is handed. Three ways:

* ``after-ddp``: what StageSwitchHook did before: DDP built on the trainable model, the backbone
  frozen afterwards (``find_unused_parameters=True``): its parameters stay in the buckets;
* ``rebuilt``: StageSwitchHook now: the same, then the wrapper rebuilt (``rewrap_ddp``);
* ``build-time``: the stage-2 configs now: ``frozen_stages=4, norm_eval=True`` in the backbone,
  so DDP never registers it.
"""
import argparse
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402
from mmpretrain.structures import DataSample  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration
from aliprod_plugins.hooks.stage_switch_utils import rewrap_ddp  # noqa: E402

MODES = ('after-ddp', 'rebuilt', 'build-time')
SIZES = {'digits_lt': 24, 'resnest50': 112}


def _worker(rank: int, config: str, mode: str, steps: int, port: int, queue) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=2)
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(config)
    model_cfg = cfg.model.copy()
    if mode != 'build-time':  # a model built trainable, frozen later
        model_cfg.backbone = dict(model_cfg.backbone, frozen_stages=-1, norm_eval=False)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    ddp = DistributedDataParallel(model, find_unused_parameters=mode == 'after-ddp')
    if mode != 'build-time':
        for module in (model.backbone, model.neck):
            for param in module.parameters():
                param.requires_grad_(False)
            module.eval()
    if mode == 'rebuilt':
        ddp = rewrap_ddp(ddp)
    sent = []

    def count(state, bucket):
        sent.append(bucket.buffer().numel() * bucket.buffer().element_size())
        return dist.all_reduce(bucket.buffer(), async_op=True).get_future().then(
            lambda fut: fut.value()[0] / 2)

    ddp.register_comm_hook(None, count)
    size = next(v for k, v in SIZES.items() if k in osp.basename(config))
    classes = model.head.num_classes
    for step in range(steps):
        x = torch.randn(2, 3, size, size)
        samples = [DataSample().set_gt_label(int(c)) for c in torch.randint(classes, (2, ))]
        ddp(x, samples, mode='loss')['loss'].backward()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if rank == 0:
        queue.put((sum(sent) / steps, trainable))
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description='All-reduced bytes per LWS step under DDP')
    parser.add_argument('--configs', nargs='+', default=[
        osp.join(ROOT, 'configs', 'demo', 'digits_lt_stage2_lws.py'),
        osp.join(ROOT, 'configs', 'aliprod', 'resnest50_stage2_lws.py')])
    parser.add_argument('--steps', type=int, default=3, help='steps per way (default: 3)')
    args = parser.parse_args()
    ctx = mp.get_context('spawn')
    print('| config | freezing | trainable parameters | all-reduced per step (rank 0) |\n'
          '|---|---|---|---|')
    for config in args.configs:
        for i, mode in enumerate(MODES):
            queue = ctx.Queue()
            port = 29400 + os.getpid() % 500 + i
            procs = [ctx.Process(target=_worker, args=(r, config, mode, args.steps, port, queue))
                     for r in range(2)]
            for proc in procs:
                proc.start()
            sent, trainable = queue.get(timeout=1800)
            for proc in procs:
                proc.join()
            print(f'| {osp.basename(config)} | {mode} | {trainable:,} | {sent:,.0f} bytes '
                  f'({sent / 2**20:.2f} MiB) |', flush=True)


if __name__ == '__main__':
    main()
