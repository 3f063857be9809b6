"""Errors a service raises for a user to read; adapters show their message, never a traceback."""


class JointcheckError(Exception):
    """A refusal or failure explained in one line.

    `code` names the reason for adapters that explain it in the reader's language, with `params`
    the values that explanation shows; the message itself is English for operators and logs.
    """

    def __init__(self, message: str = "", *, code: str | None = None, params: dict | None = None, fields: tuple[str, ...] = ()):
        super().__init__(message)
        self.code = code
        self.params = params or {}
        # What the person must change, for a form or wizard that can send them back there
        # (a proposal's title, ratios, draw_at ...).
        self.fields = fields


class PermissionDenied(JointcheckError):
    pass


class NotFound(JointcheckError):
    pass


class InvalidInput(JointcheckError):
    pass


class Conflict(JointcheckError):
    """The request clashes with the current state (already used, already drawn, moved on)."""


class Problems(InvalidInput):
    """Everything wrong with one request, found in one pass, so the person fixes it all at once;
    each problem is an error with its own code, params and fields."""

    def __init__(self, problems: list[JointcheckError]):
        first = problems[0]
        super().__init__("; ".join(str(p) for p in problems), code=first.code, params=first.params, fields=first.fields)
        self.problems = problems
