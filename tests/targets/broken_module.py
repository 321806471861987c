"""A target module that fails on import."""

import this_dependency_does_not_exist  # noqa: F401
