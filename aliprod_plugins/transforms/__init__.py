"""aliprod_plugins.transforms."""
