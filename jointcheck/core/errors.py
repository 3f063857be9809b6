"""Errors a service raises for a user to read; adapters show their message, never a traceback."""


class JointcheckError(Exception):
    """A refusal or failure explained in one line.

    `code` names the reason for adapters that explain it in the reader's language, with `params`
    the values that explanation shows; the message itself is English for operators and logs.
    """

    def __init__(self, message: str = "", *, code: str | None = None, params: dict | None = None):
        super().__init__(message)
        self.code = code
        self.params = params or {}


class PermissionDenied(JointcheckError):
    pass


class NotFound(JointcheckError):
    pass


class InvalidInput(JointcheckError):
    pass


class Conflict(JointcheckError):
    """The request clashes with the current state (already used, already drawn, moved on)."""
