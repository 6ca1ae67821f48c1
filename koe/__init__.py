"""koe: Japanese-first voice-of-the-customer text mining."""

__version__ = "0.1.0"
