"""aliprod_plugins.hooks."""
