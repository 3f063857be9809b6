"""The domain model (SPEC section 2) as SQLAlchemy 2 typed tables.

The schema is made only by the Alembic migrations in jointcheck/migrations; these classes must
stay in step with them (tests/test_migrations.py compares the two).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jointcheck.core import limits

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes, stored in UTC on every database.

    SQLite keeps a datetime as text without converting it, so 08:00+08:00 and 00:00+00:00 would
    compare as different instants; converting on the way in, and reading naive values back as UTC,
    makes comparisons in SQL mean the same on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: every stored time must carry its time zone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime}


def _now_column() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime, server_default=func.now())


class Role(enum.StrEnum):
    ADMIN = "admin"
    CONVENER = "convener"
    OFFICER = "officer"
    INSPECTOR = "inspector"


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(limits.DEPARTMENT_NAME))
    created_at: Mapped[dt.datetime] = _now_column()


class DepartmentAlias(Base):
    """Another name a department goes by in imported registers (市场监管局 for SCJG)."""

    __tablename__ = "department_aliases"
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    alias: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = _now_column()


class Region(Base):
    """GB/T 2260 administrative division; conveners' jurisdictions are regions."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(6))


class CheckItem(Base):
    """One version of a check item; a change makes a new row so old rounds keep theirs."""

    __tablename__ = "check_items"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(Text)  # up to 4,000 characters, line breaks kept
    item_group: Mapped[str] = mapped_column(Text, default="", server_default="")  # 抽查类别
    category: Mapped[str] = mapped_column(String(16))  # general | key
    basis: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(String(100), default="")
    object_kind: Mapped[str] = mapped_column(Text, default="")  # 检查对象, free text
    ratio_cap: Mapped[int | None] = mapped_column(Integer)  # per mille; None for key items
    created_at: Mapped[dt.datetime] = _now_column()


class JointItem(Base):
    """An entry of the joint item list (联合抽查事项清单): a field, what is checked, on whom, and the
    departments that start it and join it, named as the list names them (kinds of departments)."""

    __tablename__ = "joint_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    area: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(Text)
    object_kind: Mapped[str] = mapped_column(Text, default="")
    initiator: Mapped[str] = mapped_column(Text, default="")  # ';'-joined department names
    partners: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = _now_column()


CODE_INDEX = "uq_targets_code"


class Target(Base):
    """An entry of the target directory. Never deleted: deregistration is a status."""

    __tablename__ = "targets"
    # A unique index, not a constraint: a bulk load into an empty directory drops it and builds it
    # once at the end (repositories/bulk_targets.py), which SQLite allows only for an index.
    __table_args__ = (Index(CODE_INDEX, "code", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    # No index on region: a second b-tree would cost every bulk load of the directory a third of
    # its time, while region filters are either scans anyway (the draw) or paginated searches.
    region: Mapped[str] = mapped_column(String(6))
    industry: Mapped[str] = mapped_column(String(8), default="")
    risk: Mapped[str] = mapped_column(String(1))
    # ';'-joined sorted codes: one row per target keeps a 20-million-row directory a single table.
    departments: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    address: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = _now_column()


class Inspector(Base):
    __tablename__ = "inspectors"
    id: Mapped[int] = mapped_column(primary_key=True)
    cert_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="enforcement")  # enforcement | expert
    skills: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(String(6), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    updated_at: Mapped[dt.datetime] = _now_column()


class Conflict(Base):
    """回避: this inspector must not inspect the target with this code."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("inspector_id", "target_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"))
    target_code: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = _now_column()


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(limits.DISPLAY_NAME), default="")
    # The Telegram @username when the account was bound (without the @), for the console's --as.
    telegram_username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = _now_column()


class RoleGrant(Base):
    __tablename__ = "role_grants"
    # One live account per inspector record, even when two invites are redeemed at once.
    __table_args__ = (
        Index(
            "uq_role_grants_live_inspector",
            "inspector_id",
            unique=True,
            sqlite_where=text("role = 'inspector' AND revoked_at IS NULL"),
            postgresql_where=text("role = 'inspector' AND revoked_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    region: Mapped[str | None] = mapped_column(String(6))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspectors.id"))
    granted_at: Mapped[dt.datetime] = _now_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Invite(Base):
    """A one-time code; only its SHA-256 is stored, so a database leak binds nobody."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    region: Mapped[str | None] = mapped_column(String(6))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspectors.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    used_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Plan(Base):
    """年度抽查计划 of a jurisdiction; its rows become proposed rounds."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("region", "year", "title"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(limits.ROUND_TITLE))
    created_at: Mapped[dt.datetime] = _now_column()


class Round(Base):
    __tablename__ = "rounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    title: Mapped[str] = mapped_column(String(limits.ROUND_TITLE))
    region: Mapped[str] = mapped_column(String(6))  # the convening jurisdiction
    kind: Mapped[str] = mapped_column(String(16), default="regular")  # regular | special
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    # JSON documents: scope filters, per-class ratios (per mille) and cooling-off days.
    scope: Mapped[str] = mapped_column(Text, default="{}")
    ratios: Mapped[str] = mapped_column(Text, default="{}")
    cooling_off: Mapped[str] = mapped_column(Text, default="{}")
    # Key items are checked in batches: consecutive runs of this many targets in visit order.
    batch_size: Mapped[int | None] = mapped_column(Integer)
    draw_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = _now_column()


class RoundParticipant(Base):
    __tablename__ = "round_participants"
    __table_args__ = (UniqueConstraint("round_id", "department_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="invited")  # invited|confirmed|declined
    team_size: Mapped[int] = mapped_column(Integer, default=1)
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RoundItem(Base):
    __tablename__ = "round_items"
    __table_args__ = (UniqueConstraint("round_id", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("check_items.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))


class Draw(Base):
    """The frozen inputs, the commitment and, once seeded, the outcome of one round's draw.

    round_id is unique: the database itself refuses a second draw of a round.
    """

    __tablename__ = "draws"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), unique=True)
    params_json: Mapped[bytes] = mapped_column(LargeBinary)
    commitment: Mapped[str] = mapped_column(String(64))
    server_secret: Mapped[bytes] = mapped_column(LargeBinary)
    seed_digits: Mapped[str | None] = mapped_column(String(limits.SEED_DIGITS))
    frozen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    seeded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    drawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DrawFile(Base):
    """A published file of a draw (population.tsv, pools.tsv, …), stored byte for byte."""

    __tablename__ = "draw_files"
    __table_args__ = (UniqueConstraint("draw_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"))
    name: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Task(Base):
    """One target of a drawn round with its items and team: one visit checks all items."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("round_id", "target_id"),
        UniqueConstraint("round_id", "visit_order"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    stratum: Mapped[str] = mapped_column(String(32))
    ticket: Mapped[str] = mapped_column(String(64))
    visit_order: Mapped[int] = mapped_column(Integer)
    batch: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="draw")  # draw | case
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("task_id", "inspector_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="draw")  # draw | manual | expert
    reason: Mapped[str] = mapped_column(String(limits.REASON), default="")


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("task_id", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("check_items.id"))
    category: Mapped[str] = mapped_column(String(2))  # SPEC section 6 code
    follow_up: Mapped[str] = mapped_column(String(32), default="none")
    note: Mapped[str] = mapped_column(String(limits.NOTE), default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str] = mapped_column(String(limits.REASON), default="")
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The reviewing officer decides whether the note is shown to the public; by default it is internal.
    note_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The day of the visit when the result was entered from paper (import); chat results have none
    # and count from the task's completion.
    inspected_on: Mapped[dt.date | None] = mapped_column(Date)


class ResultEntry(Base):
    """One thing said about a result, never changed afterwards: a finding as recorded (category and
    follow-up), a note as typed, or a reviewer's return with its reason. The result row holds the
    current state; these rows are its history, so a correction never overwrites what came before."""

    __tablename__ = "result_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # finding | note | returned
    category: Mapped[str] = mapped_column(String(2), default="")
    follow_up: Mapped[str] = mapped_column(String(32), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ResultAttachment(Base):
    """A photo or document: its Telegram file id, and the SHA-256 of its content in the service's
    file store (JOINTCHECK_FILES_DIR), downloaded when the inspector sent it."""

    __tablename__ = "result_attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # photo | document
    telegram_file_id: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = _now_column()


class OfficialDay(Base):
    """A day of the State Council's yearly holiday notice, imported by the operator: a holiday
    (放假) or a make-up workday (调休上班). It overrides the chinesecalendar package, and a year with
    rows here is a year whose working days are known."""

    __tablename__ = "official_days"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # holiday | workday
    name: Mapped[str] = mapped_column(String(100), default="")


class Publication(Base):
    """What a department made public for a round, and by when it had to (20 working days)."""

    __tablename__ = "publications"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(16))  # commitment | seed | results
    due_by: Mapped[dt.date | None] = mapped_column(Date)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    content_sha256: Mapped[str] = mapped_column(String(64), default="")


def _byte_ordered(length: int):
    # Byte order on PostgreSQL too: a prefix search is then a range scan of the index.
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class PublicResult(Base):
    """The public record of one published result (一公开): what the site and the feeds show, already
    masked, never removed. A correction is a new record that supersedes the old; both stay."""

    __tablename__ = "public_results"
    __table_args__ = (
        Index("ix_public_results_code", "target_code", "id"),
        Index("ix_public_results_name", "target_name", "id"),
        Index("ix_public_results_round", "round_id", "id"),
        Index("ix_public_results_result", "result_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    task_id: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("check_items.id"))
    item_code: Mapped[str] = mapped_column(String(64))
    target_code: Mapped[str] = mapped_column(_byte_ordered(64))
    target_name: Mapped[str] = mapped_column(_byte_ordered(500))
    target_kind: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(6))
    category: Mapped[str] = mapped_column(String(2))
    follow_up: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)  # masked; empty unless the reviewer made it public
    inspected_on: Mapped[dt.date | None] = mapped_column(Date)
    due_by: Mapped[dt.date | None] = mapped_column(Date)  # 20 working days after inspected_on
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    supersedes_id: Mapped[int | None] = mapped_column(Integer)
    superseded_by_id: Mapped[int | None] = mapped_column(Integer)
    correction_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The record as the feeds give it, serialized when written (core/public_record.py).
    csv_cells: Mapped[str] = mapped_column(Text)
    json_members: Mapped[str] = mapped_column(Text)


class Case(Base):
    """个案: a complaint, referral or monitoring lead that makes a non-random task."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    target_code: Mapped[str] = mapped_column(String(64), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    source: Mapped[str] = mapped_column(String(16))  # complaint | referral | monitoring
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    opened_at: Mapped[dt.datetime] = _now_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CreditChange(Base):
    """A change of a target's credit-risk class made by the credit loop when a result is published.

    Kept beside Target.risk (which the draw reads) as the target's history: from, to, why, and
    under which policy (its SHA-256), so a change can be explained and re-derived later.
    """

    __tablename__ = "credit_changes"
    __table_args__ = (Index("ix_credit_changes_target", "target_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    from_class: Mapped[str] = mapped_column(String(1))
    to_class: Mapped[str] = mapped_column(String(1))
    reason: Mapped[str] = mapped_column(String(16))  # raise | lower
    categories: Mapped[str] = mapped_column(String(64), default="")  # the published categories that decided it, ';'-joined
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    policy_sha256: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Append-only, hash-chained. `at` and `payload` are stored as the exact text that was hashed."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class OutboxMessage(Base):
    """A notification written with the state change that caused it; a sender delivers it later."""

    __tablename__ = "outbox"
    # The sender asks for the oldest unsettled row of each chat: (status, chat_id, id) answers it
    # from the index however long the backlog.
    __table_args__ = (Index("ix_outbox_status_id", "status", "id"), Index("ix_outbox_status_chat", "status", "chat_id", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    template: Mapped[str] = mapped_column(String(100))
    params: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = _now_column()
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text, default="")
    # Of a notice too long for one message: the parts delivered so far, so another attempt goes on from there.
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class FsmState(Base):
    """A chat conversation's place in a multi-step dialogue (aiogram FSM), kept across restarts.

    The key is aiogram's StorageKey flattened (bot, chat, user, thread, business connection,
    destiny); `data` is canonical JSON.
    """

    __tablename__ = "fsm_states"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[dt.datetime] = _now_column()


class AuditHead(Base):
    """A head of the audit chain as it was published (the site, bundles, the chat): a chain cut
    short or rewritten after it no longer holds it, which the chain alone could not tell."""

    __tablename__ = "audit_heads"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), index=True)
    hash: Mapped[str] = mapped_column(String(64))
    occasion: Mapped[str] = mapped_column(String(32))  # daily | round.approved | round.drawn
    round_id: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReceivedUpdate(Base):
    """A Telegram update as it arrived, until its handling is done: replayed after a crash, and
    never handled twice when Telegram delivers it again (bot/middlewares/updates.py)."""

    __tablename__ = "received_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
