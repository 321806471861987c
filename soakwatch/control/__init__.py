"""soakwatch.control."""
