"""The published form of a public record: its feeds' stable field names, and the record serialized
once, when it is written, as a CSV line and a JSON object. A feed of a million records then only
joins stored text, instead of converting twenty values a record on every download.

Three fields are not in the stored text: `record_id` (the database gives it on insert),
`inspection_type` (the kind of the record's round: `case` for a case's inspection, else `random`)
and `superseded_by` (set when a correction comes); the database puts them around it as a feed
streams (PublicRepository.stream): `record_id,<cells>,inspection_type,superseded_by` and
`{"record_id":…,<members>,"inspection_type":…,"superseded_by":…}`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

# Field names of results.csv / results.json, in order: documented on the site, never renamed;
# new fields go before superseded_by.
RESULT_FIELDS = (
    "record_id",
    "round_id",
    "department_code",
    "department_name",
    "item_code",
    "item_name",
    "target_code",
    "target_name",
    "target_kind",
    "region",
    "category",
    "follow_up",
    "note",
    "inspected_on",
    "due_by",
    "published_at",
    "on_time",
    "supersedes",
    "correction_reason",
    "inspection_type",
    "superseded_by",
)
STORED_FIELDS = RESULT_FIELDS[1:-2]


def _value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def serialize(values: dict) -> tuple[str, str]:
    """(CSV cells, JSON members) of the stored fields, each without its surrounding brackets."""
    row = [_value(values[name]) for name in STORED_FIELDS]
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in row])
    members = json.dumps(dict(zip(STORED_FIELDS, row)), ensure_ascii=False, separators=(",", ":"))[1:-1]
    return out.getvalue(), members
