"""soakwatch.views."""
