"""Secrets handed to people: staff session tokens, invitation links, resume codes, API keys. Only their
SHA-256 is stored, so a copy of the database opens nothing."""

from __future__ import annotations

import hashlib
import secrets

#: Crockford's base 32 without I, L, O, U: easy to read aloud and to type on a phone
_RESUME_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RESUME_CODE_LENGTH = 12


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_resume_code() -> str:
    """60 random bits as 12 characters in groups of four (``K7QD-3MFA-9XTR``); guessing is rate-limited."""
    code = "".join(secrets.choice(_RESUME_ALPHABET) for _ in range(RESUME_CODE_LENGTH))
    return "-".join(code[i : i + 4] for i in range(0, RESUME_CODE_LENGTH, 4))


def normalise_resume_code(typed: str) -> str:
    """The code as issued, from what a person typed: case, spaces and dashes do not matter, and the letters
    people confuse with digits are read as those digits."""
    cleaned = "".join(ch for ch in typed.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))
