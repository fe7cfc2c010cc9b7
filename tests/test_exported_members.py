"""The public API is exactly ``__all__``, sorted, and every public name is documented."""

from __future__ import annotations

import inspect

import consigno_async


def test_all_matches_public_names() -> None:
    """Every public name in the package namespace is in ``__all__`` and vice versa."""
    exported = set(consigno_async.__all__)
    public = {
        name
        for name, value in vars(consigno_async).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == exported - {"__version__"}
    assert consigno_async.__all__ == sorted(consigno_async.__all__)


def test_every_public_name_has_a_docstring() -> None:
    """A user reading help() on any public class or function gets a real explanation."""
    for name in consigno_async.__all__:
        if name == "__version__":
            continue
        obj = getattr(consigno_async, name)
        doc = inspect.getdoc(obj)
        assert doc is not None, f"{name} needs a docstring"
        assert len(doc) > 20, f"{name} needs a real docstring"


def test_public_objects_report_the_package_module() -> None:
    """Reprs and tracebacks say consigno_async.X, not the private module."""
    assert consigno_async.WorkflowValidationError.__module__ == "consigno_async"
