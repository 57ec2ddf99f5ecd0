"""Errors the knowledge base raises on purpose; each message is meant for the user as is."""


class BriefbotError(Exception):
    """Base of every expected error: interfaces print its message, not a traceback."""


class InputError(BriefbotError):
    """The article or question given cannot be used (empty, binary, too large...)."""


class NotFoundError(BriefbotError):
    """No article with that id in this collection."""


class IndexMismatchError(BriefbotError):
    """The stored index was built with another model or dimension."""


class CorruptStoreError(BriefbotError):
    """The SQLite file is damaged; nothing is written to it."""
