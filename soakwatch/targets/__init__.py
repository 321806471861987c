"""soakwatch.targets."""
