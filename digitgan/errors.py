"""The one exception type that the CLI turns into a one-line message and exit code 2."""


class UserError(Exception):
    """Bad input or a missing resource the user can fix; the message says how, in one line."""


class MissingSplit(UserError):
    """The source exists but holds no such split (e.g. a single-set .npz asked for 'test')."""
