"""How a core refusal reads to a user: its kind (denied, not found, conflict, invalid) and its
reason in the reader's language. Shown by RefusalMiddleware for every handler, and by a handler
that answers a refusal itself (the /propose summary)."""

from __future__ import annotations

from jointcheck.core.errors import Conflict, InvalidInput, JointcheckError, NotFound, PermissionDenied, Problems

_KINDS: tuple[tuple[type[JointcheckError], str], ...] = (
    (PermissionDenied, "denied"),
    (NotFound, "not_found"),
    (Conflict, "conflict"),
    (InvalidInput, "invalid"),
)


def error_kind(error: JointcheckError) -> str:
    return next((kind for cls, kind in _KINDS if isinstance(error, cls)), "other")


def reason(error: JointcheckError, texts, *, english_otherwise: bool = False) -> str:
    """The error's reason in the reader's language where errors/reason.txt explains its code (one
    line per problem when it carries several). Otherwise core's English message: for an English
    reader, or when the reader must know what to change (`english_otherwise`); else nothing, and
    the translated kind speaks alone. The text is plain, as core's own message is: the template
    that shows it escapes it once."""
    if isinstance(error, Problems):
        return "\n".join(reason(p, texts, english_otherwise=english_otherwise) for p in error.problems)
    if error.code:
        explained = texts.render("errors/reason.txt", code=error.code, **error.params)
        if explained:
            return explained
    return str(error) if english_otherwise or texts.language == "en" else ""


def explain(error: JointcheckError, texts, template: str) -> str:
    return texts.render(template, kind=error_kind(error), detail=reason(error, texts))
