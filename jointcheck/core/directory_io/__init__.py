"""Reading, checking and writing the item list and the two directories (SPEC sections 3 and 5).

Pure: no database, no bot. The import service feeds a file through `validate_file` (or
`read_rows` + `validate_rows`), stages the good records, and imports nothing while
`Validation.errors` is not empty, unless it was asked to skip bad rows (then
`report.write_bad_rows_csv` gives the user the rejected rows back).
"""

from jointcheck.core.directory_io.credit_code import credit_code_error, is_valid_credit_code, make_credit_code, normalize_credit_code
from jointcheck.core.directory_io.encoding import detect_encoding
from jointcheck.core.directory_io.errors import BadRow, DirectoryFileError, EncodingError, HeaderError, RowError
from jointcheck.core.directory_io.generate import iter_synthetic_targets
from jointcheck.core.directory_io.readers import file_format, open_table, read_rows
from jointcheck.core.directory_io.report import bad_rows_csv_bytes, format_row_error, render_errors, write_bad_rows_csv
from jointcheck.core.directory_io.schemas import KINDS, SCHEMAS, Column, Invalid, Schema, get_schema
from jointcheck.core.directory_io.validation import Validation, validate_file, validate_rows
from jointcheck.core.directory_io.writers import record_cells, write_csv, write_table, write_xlsx

__all__ = [
    "KINDS",
    "SCHEMAS",
    "BadRow",
    "Column",
    "DirectoryFileError",
    "EncodingError",
    "HeaderError",
    "Invalid",
    "RowError",
    "Schema",
    "Validation",
    "bad_rows_csv_bytes",
    "credit_code_error",
    "detect_encoding",
    "file_format",
    "format_row_error",
    "get_schema",
    "is_valid_credit_code",
    "iter_synthetic_targets",
    "make_credit_code",
    "normalize_credit_code",
    "open_table",
    "read_rows",
    "record_cells",
    "render_errors",
    "validate_file",
    "validate_rows",
    "write_bad_rows_csv",
    "write_csv",
    "write_table",
    "write_xlsx",
]
