"""Choose the checkpoint that ``--resume`` continues from, and refuse one that cannot be resumed.

MMEngine's auto-resume reads ``WORK_DIR/last_checkpoint`` and trusts whatever it names; a
missing, truncated or empty file then stops the run with a traceback (or, with no pointer,
prints "Auto resumed from the latest checkpoint None." and starts from scratch). Here:

- ``--resume`` (auto): the checkpoint ``last_checkpoint`` names is verified (it exists, loads
  with ``weights_only=True`` and the allowlist of :mod:`aliprod_plugins.engine.checkpoint`, and
  holds what ``Runner.resume`` needs). When it does not, a warning names it and the reason, and
  the newest checkpoint of the work dir that does is taken instead: among the checkpoints that
  hold the optimizer and scheduler states, the largest ``meta['iter']`` (then ``meta
  ['epoch']``, then modification time), so epoch-named, iteration-named (preemption) and
  ``stage1_final.pth`` checkpoints compete fairly. A weights-only checkpoint (``save_best``'s
  ``best_*.pth``) is taken only when no other loads, with a warning that the optimizer and the
  LR schedule restart. Every file that fails its check is skipped with its path and the
  reason. With no checkpoint at all, the run says so and starts fresh (from ``load_from`` if
  the config has one).
- ``--resume PATH``: a bad file stops the run with :class:`ResumeError` naming the file and
  what is wrong; one without optimizer or scheduler state is resumed with a warning.

Unfinished temporary files of an interrupted atomic save (``.NAME.*.tmp``) are removed.

Checks (:mod:`aliprod_plugins.engine.resume_check`) use a memory-mapped ``weights_only`` load,
so verifying a 1 GB checkpoint costs milliseconds.
"""
import glob
import logging
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from mmengine.logging import MMLogger

from .atomic_checkpoint import LAST_CHECKPOINT, read_last_checkpoint
from .resume_check import ResumeError, inspect_checkpoint


@dataclass
class ResumePlan:
    """What ``--resume`` resolved to.

    Attributes:
        path (str, optional): Checkpoint to resume from; None: nothing to resume.
        notes (list): ``(logging level, message)`` pairs to log once the runner's logger
            exists (see :meth:`log`).
    """
    path: Optional[str] = None
    notes: List[Tuple[int, str]] = field(default_factory=list)

    def log(self, logger: Optional[logging.Logger] = None) -> None:
        """Log the notes (to the current MMEngine logger by default)."""
        logger = logger or MMLogger.get_current_instance()
        for level, msg in self.notes:
            logger.log(level, msg)


def resolve_resume(work_dir: str, resume: Optional[str]) -> ResumePlan:
    """Resolve ``--resume`` (``'auto'`` or a path) to a verified checkpoint.

    Args:
        work_dir (str): The run's work dir.
        resume (str, optional): ``'auto'`` for the latest checkpoint of ``work_dir``, a
            checkpoint path, or None (no resume: returns an empty plan).

    Returns:
        ResumePlan: The checkpoint to resume from (None when ``'auto'`` finds nothing) and
        the messages to log.

    Raises:
        ResumeError: ``resume`` is a path that cannot be resumed from.
    """
    plan = ResumePlan()
    if resume is None:
        return plan
    if resume != 'auto':
        meta, missing = inspect_checkpoint(resume)
        plan.path = resume
        plan.notes.append((logging.INFO, f'Resuming from {resume} ({meta["iter"]} iterations '
                                         f'done; continues with epoch {meta["epoch"] + 1}, '
                                         f'batch {(meta.get("inner_iter") or 0) + 1}).'))
        _warn_missing(plan, resume, missing)
        return plan

    _remove_unfinished_saves(work_dir, plan)
    named = read_last_checkpoint(work_dir)
    rejected = set()
    if named:
        path = named
        if not osp.exists(path) and osp.exists(osp.join(work_dir, osp.basename(path))):
            path = osp.join(work_dir, osp.basename(path))  # the work dir was moved or copied
        try:
            meta, missing = inspect_checkpoint(path)
        except ResumeError as err:
            rejected.add(osp.realpath(path))
            plan.notes.append((logging.WARNING, f'{osp.join(work_dir, LAST_CHECKPOINT)} names '
                                                f'{named}, which cannot be resumed from: {err}. '
                                                'Looking for the newest checkpoint in '
                                                f'{work_dir} that loads.'))
        else:
            plan.path = path
            plan.notes.append((logging.INFO, f'Auto-resuming from {path}, named by '
                                             f'{LAST_CHECKPOINT} ({meta["iter"]} iterations done; '
                                             f'continues with epoch {meta["epoch"] + 1}, '
                                             f'batch {(meta.get("inner_iter") or 0) + 1}).'))
            _warn_missing(plan, path, missing)
            return plan
    elif named == '':
        plan.notes.append((logging.WARNING, f'{osp.join(work_dir, LAST_CHECKPOINT)} is empty; '
                                            'looking for the newest checkpoint in '
                                            f'{work_dir} that loads.'))

    path, meta, missing, skipped = newest_resumable(work_dir, exclude=rejected)
    for bad, reason in skipped:
        plan.notes.append((logging.WARNING, f'Skipping {bad}: {reason}'))
    if path is not None:
        plan.path = path
        plan.notes.append((logging.WARNING if named is not None else logging.INFO,
                           f'Auto-resuming from {path}, the newest checkpoint in {work_dir} '
                           f'that loads ({meta["iter"]} iterations done; continues with epoch '
                           f'{meta["epoch"] + 1}, batch {(meta.get("inner_iter") or 0) + 1}).'))
        _warn_missing(plan, path, missing, f'no checkpoint in {work_dir} with them loads')
    else:
        plan.notes.append((logging.WARNING if named or skipped else logging.INFO,
                           f'--resume: no checkpoint to resume from in {work_dir}; '
                           'starting a new run.'))
    return plan


def newest_resumable(work_dir: str, exclude=()) -> Tuple[Optional[str], Optional[dict],
                                                         List[str], list]:
    """Find the newest checkpoint of ``work_dir`` that can be resumed from.

    Checkpoints with the optimizer and scheduler states come first; a weights-only one
    (``best_*.pth``) is chosen only when none of those loads.

    Args:
        work_dir (str): Folder whose ``*.pth`` files are candidates.
        exclude (set): Real paths already known to be bad. Defaults to ().

    Returns:
        tuple: ``(path, meta, missing, skipped)``: the chosen path, its meta and the training
        states it lacks (None, None, [] if there is none) and ``(path, reason)`` for every
        candidate that failed its check.
    """
    found, skipped = [], []
    for path in sorted(glob.glob(osp.join(glob.escape(work_dir), '*.pth'))):
        if osp.realpath(path) in exclude:
            continue
        try:
            meta, missing = inspect_checkpoint(path)
            mtime = osp.getmtime(path)
        except (ResumeError, OSError) as err:  # OSError: removed while we look
            skipped.append((path, str(err)))
            continue
        found.append(((not missing, meta['iter'], meta['epoch'], mtime), path, meta, missing))
    if not found:
        return None, None, [], skipped
    _, path, meta, missing = max(found, key=lambda item: item[0])
    return path, meta, missing, skipped


def _warn_missing(plan: ResumePlan, path: str, missing: List[str], why: str = '') -> None:
    """Warn that resuming from ``path`` restarts the training states it lacks."""
    if not missing:
        return
    restart = {'optimizer': 'the optimizer state (momentum, ...)',
               'param_schedulers': 'the LR / parameter schedules'}
    plan.notes.append((logging.WARNING, f'{path} holds no {" and no ".join(missing)} state '
                                        '(a weights-only checkpoint, such as save_best\'s '
                                        f'best_*.pth){", and " + why if why else ""}: '
                                        f'{" and ".join(restart[m] for m in missing)} restart '
                                        'from the beginning.'))


def _remove_unfinished_saves(work_dir: str, plan: ResumePlan) -> None:
    """Delete ``.NAME.XXXX.tmp`` files that an interrupted atomic save left behind."""
    if int(os.environ.get('LOCAL_RANK', '0')) != 0:
        return
    pattern = osp.join(glob.escape(work_dir), '.')
    for tmp in glob.glob(pattern + '*.pth.*.tmp') + glob.glob(pattern + LAST_CHECKPOINT + '.*.tmp'):
        try:
            os.remove(tmp)
        except OSError:
            continue
        plan.notes.append((logging.INFO, f'Removed {tmp}, left by an interrupted save.'))


def apply_resume(cfg, resume: Optional[str]) -> ResumePlan:
    """Resolve ``--resume`` and set ``cfg.resume`` / ``cfg.load_from`` for MMEngine's Runner.

    A config that sets ``resume = True`` itself is treated like ``--resume`` (its
    ``load_from``, if any, like ``--resume PATH``). When there is nothing to resume, the run
    starts fresh and keeps the config's ``load_from`` (a stage-2 config's stage-1 weights).

    Args:
        cfg (Config): The merged config (``work_dir`` set).
        resume (str, optional): The ``--resume`` value: None, ``'auto'`` or a path.

    Returns:
        ResumePlan: Call its :meth:`ResumePlan.log` once the runner exists.

    Raises:
        ResumeError: A given checkpoint cannot be resumed from.
    """
    if resume is None and cfg.get('resume', False):
        resume = cfg.get('load_from') or 'auto'
    plan = resolve_resume(cfg.work_dir, resume)
    if plan.path is not None:
        cfg.resume = True
        cfg.load_from = plan.path
    else:
        cfg.resume = False
        if resume == 'auto' and cfg.get('load_from'):
            plan.notes.append((logging.INFO, f'Loading the weights of load_from={cfg.load_from} '
                                             '(a new run, not a resumed one).'))
    return plan
