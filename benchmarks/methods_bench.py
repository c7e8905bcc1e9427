"""``Bench``: the tool steps of ``bench_methods.py`` (and the scripts built on it) for one dataset.

Every tool runs through :class:`aliprod_plugins.runs.StepRunner` with one thread per process
(:data:`~aliprod_plugins.runs.ONE_THREAD_ENV`), skipped when its output and ``<log>.cpu``
exist; the CPU time of each step is summed per seed (finished steps report the time kept).
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from methods_configs import ROOT, method_configs
from mmengine.config import Config

from aliprod_plugins.runs import ONE_THREAD_ENV, Step, StepRunner, read_metrics, schedule, tool_env

TOOLS = osp.join(ROOT, 'tools')


class Bench:
    """Runs the tools for one dataset and keeps the CPU time of each step.

    Args:
        args (argparse.Namespace): ``dataset``, ``work_dir``, ``stage1_epochs``,
            ``stage2_epochs`` and ``methods`` as ``bench_methods.py`` parses them.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.name = args.dataset.replace('-', '_')
        self.work = osp.abspath(args.work_dir or osp.join(ROOT, 'work_dirs',
                                                          f'bench_methods_{self.name}'))
        self.data = osp.join(self.work, 'data')
        self.cfg = method_configs(self.name, self.work)
        stage1 = Config.fromfile(self.cfg['stage1'])
        # weight balancing shares stage 1 when its weight decay is the plain stage 1's
        self.wb_shares_stage1 = (Config.fromfile(self.cfg['wb1']).optim_wrapper.optimizer
                                 == stage1.optim_wrapper.optimizer)
        self.e1 = args.stage1_epochs or stage1.train_cfg.max_epochs
        self.e2 = args.stage2_epochs or schedule.stage_epochs(self.cfg['two_stage'])[1]
        self.milestones = schedule.scaled_milestones(stage1, self.e1,
                                                     stage1.train_cfg.max_epochs)
        self.cpu: Dict[str, Dict[int, float]] = {}  # step -> seed -> CPU seconds
        self.current_seed = -1
        self.runner = StepRunner(tool_env(ONE_THREAD_ENV), skip_done=True)

    def build_data(self) -> None:
        """Build the dataset in ``<work>/data`` unless it is there."""
        if osp.isfile(osp.join(self.data, 'train.json')):
            return
        print(f'building {self.args.dataset} in {self.data}', flush=True)
        from aliprod_plugins.demo import build_digits_lt, build_glyphs_lt
        (build_digits_lt if self.name == 'digits_lt' else build_glyphs_lt)(self.data)

    def run(self, step: str, args: List[str], log: str, output: str) -> None:
        """Run a tool unless ``output`` exists; add its CPU time (and its workers') to ``step``.

        The CPU time is kept in ``<log>.cpu``, so that a rerun skips finished steps (after a
        crash, or to print the table of seeds run side by side) and still reports them.
        """
        took = self.runner.run(Step(step, args, log, output))
        per_seed = self.cpu.setdefault(step, {})
        per_seed[self.current_seed] = per_seed.get(self.current_seed, 0.0) + took.cpu_s

    def mean_cpu(self, step: str) -> float:
        """CPU seconds of a step, summed over its tools, averaged over seeds."""
        return float(np.mean(list(self.cpu.get(step, {0: 0.0}).values())))

    def data_opts(self, ann_file: Optional[str] = None) -> List[str]:
        """``--cfg-options`` of the data root (and a training list file)."""
        opts = [f'{s}_dataloader.dataset.data_root={self.data}' for s in ('train', 'val', 'test')]
        if ann_file:
            opts.append(f'train_dataloader.dataset.ann_file={ann_file}')
        return opts

    def train(self, step: str, key: str, out: str, seed: int, epochs: int,
              ann_file: Optional[str] = None, resume: Optional[str] = None,
              load: Optional[str] = None, extra=()) -> str:
        """Train ``self.cfg[key]`` into ``out`` for ``epochs``; return the last checkpoint."""
        opts = self.data_opts(ann_file) + [
            f'randomness.seed={seed}', f'train_cfg.max_epochs={epochs}',
            'default_hooks.checkpoint.max_keep_ckpts=-1', 'default_hooks.logger.interval=50',
            *extra]
        if load:
            opts.append(f'load_from={load}')
        args = [osp.join(TOOLS, 'train.py'), self.cfg[key], '--work-dir', out, '--no-validate']
        if resume:
            args += ['--resume', resume]
        ckpt = osp.join(out, f'epoch_{epochs}.pth')
        self.run(step, args + ['--cfg-options', *opts], out + '.log', ckpt)
        return ckpt

    def run_test(self, step: str, config: str, ckpt: str, out: str, extra=()) -> None:
        """``tools/test.py`` into ``out`` (``out.json``, ``out_per_class.csv``)."""
        self.run(step, [osp.join(TOOLS, 'test.py'), config, ckpt, '--work-dir', out, '--out',
                        out + '.json', '--cfg-options', *self.data_opts(), *extra],
                 out + '_test.log', out + '.json')

    def test(self, step: str, key: str, ckpt: str, out: str) -> Dict[str, float]:
        """Score ``ckpt`` with ``self.cfg[key]``; its metrics (``tools/test.py --out``)."""
        self.run_test(step, self.cfg[key], ckpt, out)
        return read_metrics(out + '.json')

    def train_test(self, step: str, key: str, out: str, seed: int, epochs: int,
                   **kwargs) -> Dict[str, float]:
        """:meth:`train`, then :meth:`test` the last checkpoint into ``<out>_eval``."""
        return self.test(step, key, self.train(step, key, out, seed, epochs, **kwargs),
                         out + '_eval')

    def two_stage(self, step: str, out: str, seed: int, resume: str,
                  ann_file: Optional[str] = None) -> Dict[str, float]:
        """The two-stage config resumed from a stage-1 checkpoint (the sampler switch), scored."""
        return self.train_test(step, 'two_stage', out, seed, self.e1 + self.e2,
                               ann_file=ann_file, resume=resume, extra=self.switch_opts())

    def stage1_opts(self) -> List[str]:
        """Stage 1's milestones and checkpoint interval.

        Checkpoints at half the first milestone and at it (before the LR decays: what the
        cleaner scores with) and at the end of stage 1.
        """
        keep = sorted({max(1, self.milestones[0] // 2), self.milestones[0], self.e1})
        interval = int(np.gcd.reduce(keep))
        return [f'param_scheduler.milestones={self.milestones}'.replace(' ', ''),
                f'default_hooks.checkpoint.interval={interval}']

    def switch_opts(self) -> List[str]:
        """:meth:`stage1_opts` and the switch at the end of stage 1."""
        return self.stage1_opts() + [f'custom_hooks.0.switch_epoch={self.e1}']

    def want(self, key: str) -> bool:
        """Whether ``--methods`` asks for the row ``key`` (all without ``--methods``)."""
        return self.args.methods is None or key in self.args.methods
