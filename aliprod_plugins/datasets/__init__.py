"""aliprod_plugins.datasets."""
