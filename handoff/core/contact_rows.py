"""A contacts CSV read into normalised rows (pure): columns name, phone, email, crm_id, language.

The file is UTF-8 (a spreadsheet's byte-order mark is skipped), separated by commas, semicolons or tabs, with a
header row naming the columns in any order and case; other columns are ignored. Rows are numbered as a
spreadsheet shows them: the header is row 1. Phones are read with `phonenumbers`: a number with its `+` and
country code as it is, a national one in the operation's region. A row that cannot be read is refused alone,
with its reason; the others go on.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from handoff.core.identity import InvalidIdentity, normalize_email, normalize_told_phone

COLUMNS = ("name", "phone", "email", "crm_id", "language")
KEYS = ("crm_id", "phone", "email")  # what a customer is known by; a row needs one
NAME_MAX = 200  # customers.display_name
CRM_MAX = 320  # identities.value
LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][a-zA-Z0-9]{2,4})?$")
MAX_ROWS = 100_000


class CsvRefused(ValueError):
    """The file as a whole cannot be read (no header naming a known column, not UTF-8, too many rows)."""


@dataclass(frozen=True)
class ContactRow:
    """One customer as a row describes them, normalised: phone E.164, email lower-case, language short."""

    row: int
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    crm_id: str | None = None
    language: str | None = None

    def identities(self) -> list[tuple[str, str]]:
        """The identities the row names, as (kind, value) of the identities table."""
        return [(kind, value) for kind, value in (("crm", self.crm_id), ("phone", self.phone),
                                                  ("email", self.email)) if value]


@dataclass(frozen=True)
class BadRow:
    row: int
    reason: str


def _cell(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def contact_row(row: int, cells: dict[str, str | None], region: str) -> ContactRow | BadRow:
    """One row's cells (by column name) normalised, or why the row cannot be a customer."""
    name, phone, email, crm_id, language = (_cell(cells.get(column)) for column in COLUMNS)
    if not (phone or email or crm_id):
        return BadRow(row, "no phone, email or crm_id to know the customer by")
    try:
        phone = normalize_told_phone(phone, region) if phone else None
    except InvalidIdentity:
        return BadRow(row, f"phone {phone!r} is not a phone number")
    try:
        email = normalize_email(email) if email else None
    except InvalidIdentity:
        return BadRow(row, f"email {email!r} is not an email address")
    if name and len(name) > NAME_MAX:
        return BadRow(row, f"name longer than {NAME_MAX} characters")
    if crm_id and len(crm_id) > CRM_MAX:
        return BadRow(row, f"crm_id longer than {CRM_MAX} characters")
    if language and not LANGUAGE.match(language):
        return BadRow(row, f"language {language!r} is not a language code such as es or pt-BR")
    return ContactRow(row, name, phone, email, crm_id, language.split("-")[0].split("_")[0] if language else None)


def _dialect(header: str) -> type[csv.Dialect] | csv.Dialect:
    """Commas, or the semicolons spreadsheets write where the comma is the decimal mark, or tabs."""
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def read_contacts(data: bytes, region: str) -> tuple[list[ContactRow], list[BadRow]]:
    """Every row of the file, read or refused; CsvRefused when the file itself cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvRefused(f"the file is not UTF-8 text (byte {exc.start})") from exc
    header_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(header_line))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise CsvRefused("the file is empty") from None
    except csv.Error as exc:
        raise CsvRefused(f"the header cannot be read: {exc}") from exc
    if not any(column in KEYS for column in header):
        raise CsvRefused(f"the header names none of {', '.join(KEYS)} (columns: {', '.join(COLUMNS)})")
    found: list[ContactRow] = []
    bad: list[BadRow] = []
    number = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a broken quote: this row alone
            number += 1
            bad.append(BadRow(number, f"cannot be read as CSV: {exc}"))
            continue
        number += 1
        if number - 1 > MAX_ROWS:
            raise CsvRefused(f"more than {MAX_ROWS} rows: split the file")
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        read = contact_row(number, dict(zip(header, record, strict=False)), region)
        if isinstance(read, ContactRow):
            found.append(read)
        else:
            bad.append(read)
    return found, bad
