"""A tiny in-process MMEngine Runner (a 2->1 linear model, 8 samples) for engine tests."""
import os.path as osp
from typing import Optional

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset


class ToyModel(BaseModel):
    """``y = w x + b`` with a mean squared error loss."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.head = nn.Linear(1, 1)  # only so that StageSwitchHook finds a head
        self.loss_weight = 1.0  # tests set it to inf to make every loss non-finite

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        inputs = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(inputs)
        if mode == 'loss':
            target = torch.stack(data_samples) if isinstance(data_samples, list) \
                else data_samples
            return dict(loss=((out - target)**2).mean() * self.loss_weight)
        return out


class ToyDataset(Dataset):
    """8 fixed samples; ``metainfo`` as MMEngine datasets have."""

    metainfo = dict(classes=('y', ))

    def __init__(self, n: int = 8) -> None:
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 2, generator=gen)
        self.y = self.x @ torch.tensor([[1.5], [-0.5]]) + 0.25

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return dict(inputs=self.x[i], data_samples=self.y[i])


def toy_runner(work_dir: str, max_epochs: int = 3, max_keep_ckpts: int = 1,
               custom_hooks: Optional[list] = None, optim_wrapper: Optional[dict] = None,
               checkpoint: Optional[dict] = None, name: str = 'toy',
               metric=None, train_cfg: Optional[dict] = None, **runner_args) -> Runner:
    """Build a Runner that trains ``ToyModel`` 4 iterations per epoch and checkpoints every epoch.

    With ``metric`` (a ``BaseMetric``) it validates after every epoch. ``train_cfg`` is merged
    into the default one; ``runner_args`` (``resume``, ``load_from``, ``randomness``, ...) go
    to the Runner.
    """
    val = dict()
    if metric is not None:
        val = dict(val_dataloader=dict(dataset=ToyDataset(), batch_size=4, num_workers=0,
                                       sampler=dict(type='DefaultSampler', shuffle=False)),
                   val_cfg=dict(), val_evaluator=dict(metrics=[metric]))
    ckpt = dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=max_keep_ckpts)
    optim_wrapper = optim_wrapper or dict(type='FiniteOptimWrapper')
    optim_wrapper.setdefault('optimizer', dict(type='SGD', lr=0.05, momentum=0.9))
    ckpt.update(checkpoint or {})
    loop = dict(max_epochs=max_epochs, **(train_cfg or {}))
    if 'type' not in loop:  # MMEngine's EpochBasedTrainLoop
        loop['by_epoch'] = True
    return Runner(
        model=ToyModel(),
        work_dir=work_dir,
        train_dataloader=dict(dataset=ToyDataset(), batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False)),
        optim_wrapper=optim_wrapper,
        param_scheduler=dict(type='MultiStepLR', milestones=[2], by_epoch=True),
        train_cfg=loop,
        default_hooks=dict(checkpoint=ckpt, logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=custom_hooks,
        default_scope='mmpretrain',
        experiment_name=f'{name}_{osp.basename(work_dir)}',
        log_level='WARNING',
        **val,
        **runner_args,
    )
