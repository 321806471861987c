"""A target module that fails on import."""

import this_dependency_does_not_exist  # type: ignore[import-not-found]  # noqa: F401
