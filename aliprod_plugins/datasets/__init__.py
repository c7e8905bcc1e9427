"""aliprod_plugins.datasets: the AliProducts dataset and what it is built from.

- ``aliproducts``: :class:`AliProductsDataset` (registered), the layout and the start-up steps;
- ``options``: its option checks and default paths / class names;
- ``index_dataset`` and ``path_index``: samples served from a compact :class:`PathIndex`;
- ``annotations`` (``json_annotation``, ``list_annotation``, ``annotation_utils``,
  ``index_cache``): reading the annotation files;
- ``capping``: reproducible head capping and the per-class count summaries;
- ``file_check``: missing images found at start-up, one ``os.listdir`` per folder;
- ``lmdb_pack``: matching an LMDB pack and binding the pipeline's loader to it;
- ``on_error``: the ``on_error='resample'`` policy.
"""
from .aliproducts import AliProductsDataset
from .annotations import load_annotation
from .capping import cap_per_class, count_summary
from .path_index import PathIndex

__all__ = ['AliProductsDataset', 'PathIndex', 'cap_per_class', 'count_summary', 'load_annotation']
