"""soakwatch.chaos.plugin."""
