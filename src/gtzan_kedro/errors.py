"""Errors about the user's data or configuration, as opposed to bugs."""


class InputError(ValueError):
    """Bad input the user can fix: the message names the file or parameter and what to do."""


def input_error_in(error: BaseException) -> InputError | None:
    """The :class:`InputError` that ``error`` is or was raised from, if any.

    Kedro wraps what a dataset raises in its own ``DatasetError``; the user's message is the
    original one.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, InputError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
