"""``BadImageHook``: count and report the images the dataset replaced (``on_error='resample'``)."""
from typing import List, Optional, Sequence

from mmengine.dist import all_gather_object
from mmengine.hooks import Hook, LoggerHook
from mmengine.logging import MMLogger
from mmpretrain.registry import HOOKS

from aliprod_plugins.checks import check_int

DATA_BATCH = Optional[dict]


@HOOKS.register_module()
class BadImageHook(Hook):
    """Log every unreadable image once and keep a running count in the training log.

    With ``on_error='resample'`` the dataset replaces a sample whose file cannot be loaded by
    another sample of the same class and records the bad path(s) in the packed data sample's
    metainfo under ``key``. This hook reads them from each training batch, warns once per
    distinct path, and puts two scalars in the message hub, which ``LoggerHook`` prints:

    - ``train/bad_images``: samples replaced so far (a file hit in every epoch counts each
      time), summed over ranks;
    - ``train/bad_image_files``: distinct bad files so far.

    Paths are gathered from all ranks (one ``all_gather_object`` of usually empty lists) at
    each logging interval and at the end of every epoch, so warnings from any rank reach the
    main log. The running count survives ``--resume`` through the message hub's scalars.

    Args:
        interval (int, optional): Gather and report every ``interval`` iterations. Defaults
            to None: the ``LoggerHook``'s interval (10 if there is none), so that every
            printed log line carries a fresh count.
        key (str): Metainfo key the dataset writes. Defaults to ``'bad_image_paths'``.
    """

    # before LoggerHook ('BELOW_NORMAL') in after_train_iter, so the printed count is fresh
    priority = 'NORMAL'

    def __init__(self, interval: Optional[int] = None, key: str = 'bad_image_paths') -> None:
        self.interval = check_int('interval', interval, low=1, allow_none=True,
                                  owner='BadImageHook')
        self.key = key
        self.count = 0
        self.seen = set()
        self._pending: List[str] = []
        self._interval = interval or 10

    def before_train(self, runner) -> None:
        """Resolve the interval and restore a resumed count."""
        if self.interval is None:
            for hook in runner.hooks:
                if isinstance(hook, LoggerHook):
                    self._interval = hook.interval
        history = runner.message_hub.log_scalars.get('train/bad_images')
        if history is not None:
            self.count = int(history.current())

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Collect this batch's bad paths; report at logging iterations and epoch ends."""
        self._pending.extend(self._bad_paths(data_batch))
        if (self.every_n_train_iters(runner, self._interval)
                or self.end_of_epoch(runner.train_dataloader, batch_idx)):
            self._report(runner)

    def after_train(self, runner) -> None:
        """Report what is left and sum up."""
        self._report(runner)
        if self.count:
            MMLogger.get_current_instance().warning(
                f'{self.count} training samples were replaced because their image could not '
                f'be loaded ({len(self.seen)} distinct files); see the warnings above.')

    def _report(self, runner) -> None:
        # every rank calls this at the same iterations, as the collective requires
        gathered = all_gather_object(self._pending)
        self._pending = []
        logger = MMLogger.get_current_instance()
        for paths in gathered:
            self.count += len(paths)
            for path in paths:
                if path not in self.seen:
                    self.seen.add(path)
                    logger.warning(f'unreadable image replaced by another sample of its '
                                   f'class: {path}')
        runner.message_hub.update_scalar('train/bad_images', self.count)
        runner.message_hub.update_scalar('train/bad_image_files', len(self.seen))

    def _bad_paths(self, data_batch: DATA_BATCH) -> List[str]:
        if not isinstance(data_batch, dict):
            return []
        samples: Sequence = data_batch.get('data_samples') or []
        paths = []
        for sample in samples:
            meta = sample if isinstance(sample, dict) else getattr(sample, 'metainfo', {})
            value = meta.get(self.key)
            if value:
                paths.extend([value] if isinstance(value, str) else [str(p) for p in value])
        return paths
