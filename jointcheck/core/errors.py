"""Errors a service raises for a user to read; adapters show their message, never a traceback."""


class JointcheckError(Exception):
    """A refusal or failure explained in one line."""


class PermissionDenied(JointcheckError):
    pass


class NotFound(JointcheckError):
    pass


class InvalidInput(JointcheckError):
    pass


class Conflict(JointcheckError):
    """The request clashes with the current state (already used, already drawn, moved on)."""
