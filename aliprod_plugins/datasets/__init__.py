"""The AliProducts dataset and its compact index.

- :mod:`.aliproducts`: ``AliProductsDataset`` (``DATASETS``), JSON or list-file annotations,
  head capping, file checks, LMDB packs, ``on_error``;
- :mod:`.annotations`, :mod:`.json_annotation`, :mod:`.list_annotation`,
  :mod:`.annotation_utils`: ``load_annotation`` and the two formats;
- :mod:`.capping`: ``cap_per_class``, ``count_summary``;
- :mod:`.path_index`: ``PathIndex``, names as one bytes buffer with offsets;
- :mod:`.file_check`: every image exists, one listing per class folder;
- :mod:`.index_cache`: the parsed index kept next to the annotation (``cache_index``);
- :mod:`.lmdb_pack`: binding a dataset to a pack and checking its metadata;
- :mod:`.on_error`: ``raise`` or ``resample`` a bad image.
"""
from .aliproducts import AliProductsDataset
from .annotations import load_annotation
from .capping import cap_per_class, count_summary
from .path_index import PathIndex

__all__ = ['AliProductsDataset', 'PathIndex', 'cap_per_class', 'count_summary', 'load_annotation']
