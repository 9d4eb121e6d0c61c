"""Merge translations into the catalogues after `pybabel extract` (see README): python scripts/merge_translations.py TABLE.py, where TABLE.py defines a dict VI of msgid -> Vietnamese. English is the msgid itself; Vietnamese keeps what the catalogue has unless the table gives it."""
import os
import runpy
import sys
from babel.messages.pofile import read_po, write_po
from babel.messages.catalog import Catalog
table = runpy.run_path(sys.argv[1])["VI"]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "survey_app", "translations")
pot = read_po(open(f"{root}/messages.pot", "rb"))

for lang in ("vi", "en"):
    path = f"{root}/{lang}/LC_MESSAGES/messages.po"
    old = read_po(open(path, "rb"), locale=lang) if os.path.exists(path) else None
    cat = Catalog(locale=lang, project="dti-survey", version="0.1", msgid_bugs_address="", copyright_holder="", charset="utf-8", fuzzy=False)
    for m in pot:
        if not m.id: continue
        if lang == "en":
            s = m.id
        else:
            s = table.get(m.id) or (old.get(m.id).string if old and old.get(m.id) else "")
        cat.add(m.id, s, flags=m.flags - {"fuzzy"}, auto_comments=m.auto_comments)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f: write_po(f, cat, width=110, sort_output=True, omit_header=False)
    missing = [m.id for m in cat if m.id and not m.string]
    print(lang, len(cat), "missing:", missing)
