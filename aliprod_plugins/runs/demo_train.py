"""The demo's training step: both stages in one ``tools/train.py`` run, one line per epoch."""
import math
import os.path as osp
from typing import List

from .progress import EpochProgress, message_line
from .scalars import ScalarsTail
from .step import ROOT, Step, StepRunner, StepTime


def train_step(runner: StepRunner, config: str, work_dir: str, log: str, seed: int,
               stage1_epochs: int, stage2_epochs: int, milestones: List[int],
               cfg_options: List[str], quiet: bool = False, title: str = None) -> StepTime:
    """Train ``config`` (a two-stage config) for ``stage1_epochs + stage2_epochs`` epochs.

    Checkpoints are kept at every multiple of the gcd of the two stages' lengths (so both
    stages' last ones exist), validation runs at the switch and at the end, and every epoch's
    last iteration is logged. Unless ``quiet``, the epochs (read from the run's
    ``scalars.json`` while it grows), the validations, the stage switch and errors are printed.

    Args:
        runner (StepRunner): Runs the tool.
        config (str): The two-stage config (its ``StageSwitchHook`` is ``custom_hooks.0``).
        work_dir (str): The training's work dir.
        log (str): Log file.
        seed (int): Training seed.
        stage1_epochs (int): Epochs before the switch.
        stage2_epochs (int): Epochs after it.
        milestones (list[int]): The ``MultiStepLR`` milestones of stage 1.
        cfg_options (list[str]): More ``--cfg-options`` (the data roots).
        quiet (bool): Print nothing while training. Defaults to False.
        title (str, optional): Printed when the step starts. Defaults to None.

    Returns:
        StepTime: What the training took.
    """
    total = stage1_epochs + stage2_epochs
    args = [osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', work_dir,
            '--cfg-options', *cfg_options, f'randomness.seed={seed}',
            f'train_cfg.max_epochs={total}', f'train_cfg.val_interval={stage1_epochs}',
            f'custom_hooks.0.switch_epoch={stage1_epochs}',
            f'param_scheduler.milestones={milestones}'.replace(' ', ''),
            f'default_hooks.checkpoint.interval={math.gcd(stage1_epochs, stage2_epochs)}',
            'default_hooks.checkpoint.max_keep_ckpts=-1',
            # log every epoch's last iteration too: one progress line per epoch
            'default_hooks.logger.ignore_last=False']
    step = Step('train', args, log, osp.join(work_dir, f'epoch_{total}.pth'), title)
    if quiet:
        return runner.run(step)
    tail, progress = ScalarsTail(work_dir), EpochProgress(stage1_epochs, total)

    def show(line: str) -> None:
        # the records written before this line was printed come first
        for shown in progress.feed(tail.poll()):
            print(shown, flush=True)
        message = message_line(line)
        if message is not None:
            print(message, flush=True)

    took = runner.run(step, on_line=show)
    for shown in progress.feed(tail.poll()) + progress.flush():
        print(shown, flush=True)
    return took
