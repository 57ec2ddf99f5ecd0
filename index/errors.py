"""Errors the knowledge base raises on purpose; each message is meant for the user as is."""


class BriefbotError(Exception):
    """Base of every expected error: interfaces print its message, not a traceback."""

    origin: str = ""  # the file or link it is about, when it is about one (an add's outcome)


class InputError(BriefbotError):
    """The article or question given cannot be used (empty, binary, too large...)."""


class NotFoundError(BriefbotError):
    """No article with that id in this collection."""


class IndexMismatchError(BriefbotError):
    """The stored index was built with another model or dimension."""


class CorruptStoreError(BriefbotError):
    """The SQLite file is damaged; nothing is written to it."""


class StoreUnavailableError(BriefbotError):
    """The SQLite file cannot be used right now (locked past the timeout, I/O, permissions)."""


def naming(origin: str, error: BaseException | str) -> str:
    """The error's message with `origin` (a file or link) in front, unless it already starts
    with it: every failure of a batch names what failed exactly once."""
    message = str(error)
    if origin and not message.startswith(origin):
        return f"{origin}: {message}"
    return message
