"""soakwatch.nodes.plugin."""
