"""
Suite-wide fixtures and checks. The secret check (see :mod:`secret_check`) runs the whole
session's log output, at DEBUG, through a check that no token, password, client secret or
secret answer appears; a leak fails the run.
"""

from __future__ import annotations

from secret_check import pytest_configure, pytest_sessionfinish, pytest_unconfigure

__all__ = ["pytest_configure", "pytest_sessionfinish", "pytest_unconfigure"]
