"""aliprod_plugins.datasets: the AliProducts dataset and its compact index."""
from .aliproducts import AliProductsDataset
from .annotations import load_annotation
from .capping import cap_per_class, count_summary
from .path_index import PathIndex

__all__ = ['AliProductsDataset', 'PathIndex', 'cap_per_class', 'count_summary', 'load_annotation']
