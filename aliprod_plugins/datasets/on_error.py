"""The ``on_error`` policy of a labelled dataset: raise, or resample within the class.

Loading transforms (``LoadImageScaled``) raise ``ImageLoadError`` naming the full path. With
``on_error='resample'`` the dataset loads another image of the same class instead, chosen by
a generator seeded with (index, attempt) so that a rerun sees the same replacement, warns once
per bad path, and records the bad paths in the packed data sample's metainfo under
``'bad_image_paths'`` so that a hook in the main process can count them.

Every attempt runs the pipeline under generators seeded from the sample's key (seed, epoch,
position in the epoch's draw, attempt) when the sampler gives one (``SampleKey``, see
``aliprod_plugins/engine/sample_seed.py``): augmentation does not depend on which worker loaded
what before, so a resumed run augments exactly as an uninterrupted one.
"""
from typing import Any, List, Optional

import numpy as np
from mmengine.logging import MMLogger

from aliprod_plugins.checks import check_int
from aliprod_plugins.engine.sample_seed import sample_rng
from aliprod_plugins.transforms.errors import ImageLoadError
from .options import check_choice

ON_ERROR = ('raise', 'resample')
_SALT = 0xA11D  # keeps replacement draws apart from other generators seeded by the index


class ResampleOnError:
    """Mixin providing ``prepare_data`` with the ``on_error`` policy.

    The host dataset provides ``_index`` (a :class:`PathIndex`), ``_class_counts``,
    ``get_data_info`` and ``pipeline``.
    """

    def init_on_error(self, on_error: str, max_resample: int) -> None:
        """Validate and store the policy."""
        check_choice('on_error', on_error, ON_ERROR)
        max_resample = check_int('max_resample', max_resample, low=1, owner=type(self).__name__)
        self.on_error, self.max_resample = on_error, max_resample
        self._warned_paths: set = set()
        self.reset_on_error_cache()

    def reset_on_error_cache(self) -> None:
        """Forget the per-class member lists (call when the index changes)."""
        self._by_class: Optional[np.ndarray] = None
        self._class_start: Optional[np.ndarray] = None

    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline on sample ``idx``, applying the ``on_error`` policy."""
        key = idx  # a SampleKey seeds the augmentation; a plain int leaves the RNG alone
        if self.on_error == 'raise':
            with sample_rng(key):
                return self.pipeline(self.get_data_info(idx))
        idx = int(idx) + len(self) if idx < 0 else int(idx)
        label = int(self._index.labels[idx])
        tried, bad = [idx], []
        current = idx
        for attempt in range(1, self.max_resample + 2):
            try:
                with sample_rng(key, attempt - 1):
                    data = self.pipeline(self.get_data_info(current))
            except ImageLoadError as err:
                bad.append(err.path)
                self._warn_once(err, current, label)
                current = self._same_class_index(idx, label, attempt, tried)
                if current is None or attempt > self.max_resample:
                    raise RuntimeError(
                        f'on_error="resample": {len(bad)} images of class {label:05d} failed '
                        f'to load for sample {idx} ({bad}) and no loadable replacement was '
                        f'found (class size {int(self._class_counts[label])}, max_resample='
                        f'{self.max_resample})') from err
                tried.append(current)
                continue
            if bad:
                self._record_bad(data, bad)
            return data

    def _same_class_index(self, idx: int, label: int, attempt: int,
                          tried: List[int]) -> Optional[int]:
        if self._by_class is None:
            self._by_class = np.argsort(self._index.labels, kind='stable')
            self._class_start = np.concatenate([[0], np.cumsum(self._class_counts)])
        members = self._by_class[self._class_start[label]:self._class_start[label + 1]]
        candidates = members[~np.isin(members, tried)]
        if len(candidates) == 0:
            return None
        rng = np.random.default_rng([_SALT, idx, attempt])
        return int(candidates[rng.integers(len(candidates))])

    def _warn_once(self, err: ImageLoadError, idx: int, label: int) -> None:
        if err.path in self._warned_paths:
            return
        self._warned_paths.add(err.path)
        MMLogger.get_current_instance().warning(
            f'{err} (sample {idx}, class {label:05d}); replaced by another image of the same '
            f'class (on_error="resample")')

    @staticmethod
    def _record_bad(data: Any, bad: List[str]) -> None:
        sample = data.get('data_samples') if isinstance(data, dict) else None
        if sample is not None and hasattr(sample, 'set_metainfo'):
            sample.set_metainfo({'bad_image_paths': list(bad)})
        elif isinstance(data, dict):
            data['bad_image_paths'] = list(bad)
