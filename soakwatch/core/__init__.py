"""soakwatch.core."""
