"""shsync: a group therapy practice's organization as code."""

__version__ = "0.1.0"
