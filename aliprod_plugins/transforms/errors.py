"""Errors raised by the image loading transforms."""


class ImageLoadError(OSError):
    """An image file could not be read or decoded.

    The dataset's ``on_error`` policy catches exactly this error: ``'raise'`` lets it through,
    ``'resample'`` replaces the sample by another one of the same class.

    Args:
        path (str): Full path of the file that failed.
        reason (str): Why it failed (missing, truncated, unknown format, ...).
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = str(reason)
        super().__init__(f'cannot load image {self.path!r}: {self.reason}')

    def __reduce__(self):
        # DataLoader workers re-raise exceptions in the main process by pickling them.
        return (type(self), (self.path, self.reason))
