"""The one error type readers raise, so the pipeline can report a bad input and move on."""


class ReadError(Exception):
    """An input (or one record in it) that cannot be read.

    The message is one line that starts with the file (and line or record where known), then
    the cause, e.g. ``"dump/a.jsonl.gz: truncated gzip stream"``; the pipeline shows it as is.
    """


def one_line(exc: BaseException) -> str:
    """An exception as ``Type: message`` on one line, for causes from third-party code."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
