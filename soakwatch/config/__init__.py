"""soakwatch.config."""
