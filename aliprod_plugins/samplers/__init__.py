"""aliprod_plugins.samplers."""
