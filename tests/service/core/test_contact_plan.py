"""Reading a contacts CSV and deciding each row (pure): new, matched, conflict, invalid, with the reason."""
from __future__ import annotations

import pytest

from handoff.core.contact_plan import CONFLICT, INVALID, MATCHED, NEW, plan_import
from handoff.core.contact_rows import BadRow, ContactRow, CsvRefused, read_contacts

PHONE = "+525512345678"


def test_the_files_phones_emails_and_languages_are_normalised_and_bad_rows_refused_alone() -> None:
    data = ("\ufeffName;Phone;E-mail;CRM_ID;Language;notes\n"  # a spreadsheet's BOM, semicolons, an extra column
            "María;55 1234 5678;;C-1;es-MX;x\n"
            "\n"
            "Ana;+1 (415) 555-0100;ANA@Example.com;;pt_BR;\n"
            "Nadie;;;;;\n"
            "Luis;12;;C-3;;\n"
            "Eva;;eva@;C-4;;\n"
            "Raúl;;;C-5;klingon language;\n").encode()
    rows, bad = read_contacts(data, "MX")
    assert rows == [ContactRow(2, "María", PHONE, None, "C-1", "es"),
                    ContactRow(4, "Ana", "+14155550100", None, None, "pt"),
                    ContactRow(7, "Eva", None, None, "C-4")]  # "E-mail" is not a column: ignored
    assert [(b.row, b.reason.split(" ")[0]) for b in bad] == [(5, "no"), (6, "phone"), (8, "language")]
    rows, bad = read_contacts(b"email,crm_id\nEva@X.mx,C-4\nbad,C-5\n", "MX")
    assert rows == [ContactRow(2, None, None, "eva@x.mx", "C-4")] and bad[0].row == 3


@pytest.mark.parametrize("data", [b"", b"nombre,telefono\nx,y\n", "name\n".encode("utf-16")])
def test_a_file_without_a_known_key_column_or_not_utf8_is_refused_whole(data: bytes) -> None:
    with pytest.raises(CsvRefused):
        read_contacts(data, "MX")


def outcomes(plan) -> list[tuple[int, str]]:
    return [(row.row, row.outcome) for row in plan.rows]


def test_rows_of_one_customer_make_one_new_customer_and_existing_ones_match() -> None:
    rows = [ContactRow(2, "Ana", PHONE, None, "C-1"), ContactRow(3, "Ana P", None, "ana@x.mx", "C-1"),
            ContactRow(4, None, PHONE), ContactRow(5, "Luis", "+525500000001", None, "C-2"),
            ContactRow(6, "Eva", None, "eva@x.mx")]
    owners = {("crm", "C-2"): frozenset({"luis"}), ("email", "eva@x.mx"): frozenset({"eva"})}
    plan = plan_import(rows, [BadRow(7, "no phone")], owners, {"luis": "C-2"})
    assert outcomes(plan) == [(2, NEW), (3, MATCHED), (4, MATCHED), (5, MATCHED), (6, MATCHED), (7, INVALID)]
    assert plan.rows[1].same_as == 2 and plan.rows[3].customer_id == "luis"
    assert plan.counts() == {NEW: 1, MATCHED: 4, CONFLICT: 0, INVALID: 1}
    ana, luis, eva = plan.writes
    assert (ana.customer_id, ana.rows, ana.name) == (None, [2, 3, 4], "Ana P")
    assert ana.identities == [("crm", "C-1"), ("phone", PHONE), ("email", "ana@x.mx")]
    assert (luis.customer_id, luis.identities) == ("luis", [("phone", "+525500000001")])
    assert (eva.customer_id, eva.identities) == ("eva", [])


def test_conflicts_name_the_customers_and_rows_and_sink_only_their_group() -> None:
    owners = {("phone", PHONE): frozenset({"ana"}), ("crm", "C-9"): frozenset({"luis"}),
              ("email", "eva@x.mx"): frozenset({"eva"})}
    rows = [ContactRow(2, "x", PHONE, None, "C-9"),  # the phone is Ana's, the crm_id Luis's
            ContactRow(3, "y", "+525500000003", None, "C-7"),  # C-7 twice with different phones
            ContactRow(4, "y", "+525500000004", None, "C-7"),
            ContactRow(5, "z", None, "eva@x.mx", "C-5"),  # Eva already has another crm_id
            ContactRow(6, "w", "+525500000006", None, "C-6"),  # one phone, two crm_ids in the file
            ContactRow(7, "w", "+525500000006", None, "C-8"),
            ContactRow(8, "ok", "+525500000008", None, "C-10")]
    plan = plan_import(rows, [], owners, {"luis": "C-9", "eva": "C-4"})
    assert outcomes(plan) == [(2, CONFLICT), (3, CONFLICT), (4, CONFLICT), (5, CONFLICT), (6, CONFLICT),
                              (7, CONFLICT), (8, NEW)]
    reasons = {row.row: row.reason for row in plan.rows}
    assert reasons[2] == (f"names two customers: crm_id C-9 (row 2) is customer luis's; "
                          f"phone {PHONE} (row 2) is customer ana's")
    assert reasons[3] == reasons[4] == "crm_id C-7 with two phones: +525500000003 (row 3), +525500000004 (row 4)"
    assert reasons[5] == "customer eva already has crm_id C-4, not crm_id C-5 (row 5)"
    assert reasons[6] == "one phone or email with two crm_ids: C-6 (row 6), C-8 (row 7)"
    assert [write.rows for write in plan.writes] == [[8]]
