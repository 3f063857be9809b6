"""Masking personal data before anything is public (SPEC capability 7).

Pure functions: the publication service masks a result's public record once, when it is written,
and the site masks what it shows from the directory (a round's drawn targets), so every page and
feed shows the same masked text. What counts as personal data here:

- the operator's name that is the whole name of an individual business (个体工商户 named after its
  operator), and a person's name after a label such as 负责人 / 法定代表人 / 经营者 in a note,
  and any name the caller knows to be a person's (the round's inspectors);
- mobile and fixed-line phone numbers;
- 18-digit resident ID numbers (GB 11643, recognised by their check digit: the birth date goes);
- bank card numbers: any run of 16 to 19 digits (an ID number with a typo in it too: a wrong
  check digit does not make a number less personal). Credit codes carry letters or have 18
  characters with a valid GB 32100 layout and are not touched; registration numbers have 15.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "*"

_HAN = "\u4e00-\u9fff"
# A Chinese person's name: a surname and one to three more characters.
_PERSON = re.compile(rf"^[{_HAN}]{{2,4}}$")
_LABELLED = re.compile(
    rf"(负责人|法定代表人|法人代表|法人|经营者|业主|店主|老板|联系人|当事人|经办人|姓名|户主|投资人|股东|举报人|投诉人)"
    # A name runs into the next word in Chinese text: take three characters (most names have two or
    # three), masking one character too many rather than one too few.
    rf"(\s*[:：为是]?\s*)([{_HAN}]{{2,3}})"
)
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{3,4})(\d{4})(?!\d)")
_DIGIT_RUN = re.compile(r"(?<![\d-])(?:\d{16,19}|\d{4}(?: \d{4}){3}(?: \d{1,3})?)(?![\d-])")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_card_valid(number: str) -> bool:
    """GB 11643-1999: the 18th character is the ISO 7064 MOD 11-2 check of the first seventeen."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def mask_person_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the surname stays, so a reader can still tell records apart."""
    name = name.strip()
    if not name:
        return name
    return name[0] + MASK * (len(name) - 1)


def mask_target_name(name: str, kind: str) -> str:
    """An individual business named after its operator shows the operator's name masked; any phone
    or ID number in a name is masked too. A company's name is public information and stays."""
    if kind == "individual" and _PERSON.match(name.strip()):
        return mask_person_name(name)
    if kind == "individual":
        name = _mask_labelled(name)
    return mask_numbers(name)


def _mask_labelled(text: str) -> str:
    return _LABELLED.sub(lambda m: m.group(1) + m.group(2) + mask_person_name(m.group(3)), text)


def _mask_id(match: re.Match) -> str:
    if not id_card_valid(match.group(0)):
        return match.group(0)  # left to the digit-run rule below
    return match.group(1) + MASK * 8 + match.group(3)[:-1] + MASK


def _mask_digit_run(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return digits[:4] + MASK * (len(digits) - 8) + digits[-4:]


def mask_numbers(text: str) -> str:
    """Phone, ID card and bank card numbers; other numbers (credit codes, dates) stay."""
    text = _ID_CARD.sub(_mask_id, text)
    text = _DIGIT_RUN.sub(_mask_digit_run, text)
    text = _MOBILE.sub(lambda m: m.group(1) + MASK * 4 + m.group(3), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + "-" + MASK * len(m.group(2)) + m.group(3), text)
    return text


def mask_text(text: str, known_names: Iterable[str] = ()) -> str:
    """A free text (a note): labelled names, names known to be people's, and numbers."""
    for name in sorted({n.strip() for n in known_names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, mask_person_name(name))
    return mask_numbers(_mask_labelled(text))
