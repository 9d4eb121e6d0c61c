"""Nominations of experts, as a province or ministry sends them: read, checked row by row, one person once.

A person is known by their e-mail address, or by their phone number when they gave no address; the same
person nominated twice, or by two units, is refused (each expert assesses one unit).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from sampling.panels import ExpertCategory

#: the columns of a nominations file; ``unit`` may be left out when the whole file is one unit's
COLUMNS = ("unit", "name", "category", "organisation", "position", "email", "phone", "expertise")
REQUIRED_COLUMNS = ("name", "category")

#: the headers province lists use, in Vietnamese, for the same columns
_HEADER_ALIASES = {
    "đơn vị": "unit",
    "mã đơn vị": "unit",
    "họ và tên": "name",
    "họ tên": "name",
    "nhóm": "category",
    "nhóm chuyên gia": "category",
    "cơ quan": "organisation",
    "đơn vị công tác": "organisation",
    "chức vụ": "position",
    "điện thoại": "phone",
    "số điện thoại": "phone",
    "lĩnh vực": "expertise",
    "lĩnh vực chuyên môn": "expertise",
    "organization": "organisation",
}

#: the names the categories go by in lists, lower-cased without accents, beside their codes
_CATEGORY_ALIASES = {
    "retired_leader": ExpertCategory.RETIRED_LEADER,
    "retired leader": ExpertCategory.RETIRED_LEADER,
    "lanh dao nghi huu": ExpertCategory.RETIRED_LEADER,
    "nguyen lanh dao": ExpertCategory.RETIRED_LEADER,
    "serving_official": ExpertCategory.SERVING_OFFICIAL,
    "serving official": ExpertCategory.SERVING_OFFICIAL,
    "can bo dang cong tac": ExpertCategory.SERVING_OFFICIAL,
    "cong chuc dang cong tac": ExpertCategory.SERVING_OFFICIAL,
    "business_leader": ExpertCategory.BUSINESS_LEADER,
    "business leader": ExpertCategory.BUSINESS_LEADER,
    "lanh dao doanh nghiep": ExpertCategory.BUSINESS_LEADER,
    "lanh dao doanh nghiep, to chuc, hiep hoi": ExpertCategory.BUSINESS_LEADER,
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LENGTH = 200


def plain_text(text: str) -> str:
    """Lower case without accents (đ read as d), spaces collapsed: how Vietnamese names are compared when
    people type them with or without accents ("ha noi" is Hà Nội)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().split())


def category_of(text: str) -> ExpertCategory | None:
    """The category a list names, by code or by its usual Vietnamese or English name."""
    return _CATEGORY_ALIASES.get(plain_text(text))


def column_name(header: str) -> str:
    header = " ".join(header.strip().lower().split())
    return _HEADER_ALIASES.get(header, header)


def phone_digits(phone: str) -> str:
    """A Vietnamese phone number's digits in the national form (+84 912… and 0912… are the same number)."""
    digits = re.sub(r"\D", "", phone)
    return "0" + digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits


def person_key(email: str, phone: str) -> str:
    """How a person is recognised across rows and units: the e-mail address, else the phone number."""
    return email.strip().lower() if email.strip() else f"tel:{phone_digits(phone)}"


@dataclass(frozen=True)
class NominationRow:
    line: int
    unit: str
    name: str
    category: ExpertCategory
    organisation: str
    position: str
    email: str
    phone: str
    expertise: str

    @property
    def person(self) -> str:
        return person_key(self.email, self.phone)


@dataclass(frozen=True)
class RejectedNomination:
    line: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckedNominations:
    valid: list[NominationRow]
    rejected: list[RejectedNomination]


def check_nominations(
    rows: Iterable[Mapping[str, Any]],
    units: Iterable[str],
    *,
    unit: str | None = None,
    nominated: Mapping[str, str] | None = None,
    first_line: int = 2,
) -> CheckedNominations:
    """Check a list of nominations row by row.

    :param rows: one mapping per row, keyed by column (Vietnamese headers are understood)
    :param units: the codes of the units that may be assessed
    :param unit: the unit of every row when the file has no ``unit`` column
    :param nominated: person key → unit code of the people already nominated in the round
    :param first_line: the line number of the first row (2 under a header)
    :return: the valid rows, and each rejected row with the reason: ``unknown_unit``, ``missing_name``,
        ``unknown_category``, ``missing_contact``, ``invalid_email``, ``text_too_long``, ``duplicate_person``
        (twice in the file) or ``already_nominated`` (by this or another unit)
    """
    allowed = set(units)
    nominated = dict(nominated or {})
    seen: dict[str, int] = {}
    valid: list[NominationRow] = []
    rejected: list[RejectedNomination] = []
    for line, raw in enumerate(rows, start=first_line):
        row = {column_name(str(key)): "" if value is None else str(value).strip() for key, value in raw.items()}
        if not any(row.values()):
            continue
        code = row.get("unit") or (unit or "")

        def refuse(problem: str, line: int = line, **params) -> None:
            rejected.append(RejectedNomination(line, problem, params))

        if code not in allowed:
            refuse("unknown_unit", unit=code)
            continue
        if not row.get("name"):
            refuse("missing_name")
            continue
        category = category_of(row.get("category", ""))
        if category is None:
            refuse("unknown_category", category=row.get("category", ""))
            continue
        email, phone = row.get("email", ""), row.get("phone", "")
        if not email and len(phone_digits(phone)) < 9:
            refuse("missing_contact", name=row["name"])
            continue
        if email and not _EMAIL.match(email):
            refuse("invalid_email", email=email)
            continue
        too_long = next((c for c in COLUMNS if len(row.get(c, "")) > MAX_LENGTH), None)
        if too_long:
            refuse("text_too_long", column=too_long)
            continue
        nomination = NominationRow(
            line,
            code,
            row["name"],
            category,
            row.get("organisation", ""),
            row.get("position", ""),
            email,
            phone,
            row.get("expertise", ""),
        )
        if nomination.person in seen:
            refuse("duplicate_person", name=nomination.name, first=seen[nomination.person])
            continue
        if nomination.person in nominated:
            refuse("already_nominated", name=nomination.name, unit=nominated[nomination.person])
            continue
        seen[nomination.person] = line
        valid.append(nomination)
    return CheckedNominations(valid, rejected)
