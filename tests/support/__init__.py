"""Shared test support: config, the Spark session, row builders, Delta writers.

Test modules import from here, never from one another or from a conftest; conftest
files only gather fixtures.
"""
