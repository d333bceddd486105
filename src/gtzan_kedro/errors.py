"""Errors about the user's data or configuration, as opposed to bugs."""


class InputError(ValueError):
    """Bad input the user can fix: the message names the file or parameter and what to do."""
