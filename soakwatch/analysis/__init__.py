"""soakwatch.analysis."""
