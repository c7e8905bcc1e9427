# defaults to use registries in mmpretrain; our components register there on import
default_scope = 'mmpretrain'
custom_imports = dict(imports=['aliprod_plugins'], allow_failed_imports=False)

# configure default hooks
default_hooks = dict(
    # record the time of every iteration.
    timer=dict(type='IterTimerHook'),
    # print log every 100 iterations.
    logger=dict(type='LoggerHook', interval=100),
    # enable the parameter scheduler.
    param_scheduler=dict(type='ParamSchedulerHook'),
    # save a checkpoint every epoch; keep the last 3 (each holds the 50,030-way head and its
    # momentum, about 1 GB) and always the latest one. Atomic: temporary file + fsync +
    # os.replace, `last_checkpoint` likewise, old ones removed only after the new one is in place.
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3, save_last=True),
    # set sampler seed in distributed environment.
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # validation results visualization, set True to enable it.
    visualization=dict(type='VisualizationHook', enable=False),
)

# BadImageHook: count images replaced by `on_error='resample'` in the training log.
# TrainCountsHook: give LongTailAccuracy the training set's per-class counts (shot groups).
custom_hooks = [dict(type='BadImageHook'), dict(type='TrainCountsHook')]

# configure environment
env_cfg = dict(
    # whether to enable cudnn benchmark
    cudnn_benchmark=False,
    # set multi-process parameters
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # set distributed parameters (gloo is chosen automatically on machines without CUDA)
    dist_cfg=dict(backend='nccl'),
)

# set visualizer
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

# set log level
log_level = 'INFO'

# load from which checkpoint
load_from = None

# whether to resume training from the loaded checkpoint
resume = False

# Defaults to use random seed and disable `deterministic`
randomness = dict(seed=0, deterministic=False)
