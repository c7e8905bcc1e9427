"""aliprod_plugins.evaluation."""
