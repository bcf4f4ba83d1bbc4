"""Build bot/core/data/lookalikes.json: letters that look like ASCII ones, and invisible ones.

Reads the Unicode confusables table shipped by the `confusable-homoglyphs` package (a
development dependency) and keeps every non-ASCII character whose look-alike is a single ASCII
letter or digit (Cyrillic "е" for "e", Greek "ο" for "o", ...). The bot folds these before
triage, so "ѕеіzurе" typed with Cyrillic letters reads as "seizure". It also lists every
invisible format character (Unicode category Cf), so the bot need not scan all of Unicode at
start-up. Run it again to rebuild;
the output is sorted, so the same table gives the same file.

    python scripts/make_lookalikes.py
"""

from __future__ import annotations

import json
import string
import unicodedata
from pathlib import Path

from confusable_homoglyphs import confusables

OUT = Path(__file__).resolve().parents[1] / "bot" / "core" / "data" / "lookalikes.json"
ASCII = set(string.ascii_letters + string.digits)
SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "LATIN")


def main() -> int:
    table: dict[str, str] = {}
    for code in range(0x80, 0x3000):
        ch = chr(code)
        if not unicodedata.category(ch).startswith("L"):
            continue
        name = unicodedata.name(ch, "")
        if not name.startswith(SCRIPTS):
            continue
        found = confusables.is_confusable(ch, preferred_aliases=["latin", "common"], greedy=True)
        for item in found or []:
            for glyph in item["homoglyphs"]:
                if glyph["c"] in ASCII and len(glyph["c"]) == 1:
                    table[ch] = glyph["c"]
                    break
            if ch in table:
                break
    invisible = [code for code in range(0x110000) if unicodedata.category(chr(code)) == "Cf"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "unicode": unicodedata.unidata_version,
        "lookalikes": dict(sorted(table.items())),
        "invisible": invisible,
    }
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n")
    print(
        f"wrote {len(table)} look-alike letters and {len(invisible)} invisible characters to {OUT}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
