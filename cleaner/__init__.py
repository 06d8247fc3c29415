"""cleaner: strip boilerplate from web-text dumps, deduplicate, and explain every removal."""

__version__ = "0.1.0"
