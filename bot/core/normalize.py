"""Normalisation: turn a phone-typed message into lower-case canonical words.

Steps, in order: Unicode and accents, emoji, apostrophes, repeated letters, contractions,
spelling (lookup, then edit distance towards domain words), then synonym phrases. The word
lists live in `intents/rules/vocabulary.yaml`; this module holds no vocabulary of its own and
never looks at meaning (that is triage's and the matcher's job).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.core.cache import SizedCache
from bot.loading import load_yaml_model

RUN_TOGETHER = 14  # a token this long that is no known word may be words typed without spaces
RUN_TOGETHER_SHORT = 8  # shorter run-together tokens are split only into known words
_LEET = re.compile(r"(?<=[a-z])[013](?=[a-z])")  # "d0uble", "acc1dent", "sympt0ms"
_LEET_LETTERS = {"0": "o", "1": "i", "3": "e"}
_O_FOR_ZERO = re.compile(r"(?<=\d)o(?=\d)")  # "1o2.5" typed with the letter o
_UNIT_START = re.compile(r"(?:mcg|mg|ml|mls)")
_LETTERS_AND_DIGITS = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z][ .\-_*]){3,}[a-z](?![a-z0-9])")
# Built by scripts/make_lookalikes.py from the Unicode tables (invisible format characters,
# category Cf, and letters of other scripts that look like ASCII letters).
_TABLES = json.loads((Path(__file__).parent / "data" / "lookalikes.json").read_text("utf-8"))
_INVISIBLE: dict[int, None] = dict.fromkeys(_TABLES["invisible"])
_INVISIBLE.pop(0x200D, None)  # the zero-width joiner holds emoji sequences together
_LOOKALIKES = str.maketrans(_TABLES["lookalikes"])
CACHE_CHARACTERS = 1_000_000  # text kept for repeated messages (bounded by size, not count)

_TOKEN = re.compile(r"[a-z0-9]+(?:[.'/][a-z0-9]+)*|[?!.,;:]")
PUNCTUATION = frozenset("?!.,;:")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})


class VocabularyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contractions: dict[str, str]
    emoji: dict[str, str]
    synonyms: dict[str, list[str]]
    spelling: list[str] = Field(min_length=1)
    misspellings: dict[str, str]


class CommonWordsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    words: str = Field(min_length=1)


@dataclass(frozen=True)
class Normalised:
    """A normalised message: its canonical words, and the same joined by single spaces."""

    tokens: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


class Normaliser:
    """Applies the vocabulary to messages. Build once; `normalise` is pure and cached."""

    def __init__(
        self,
        vocabulary: VocabularyFile,
        known_words: Iterable[str] = (),
        common_words: Iterable[str] = (),
    ) -> None:
        self._known: frozenset[str] = frozenset()  # filled below, once the phrases are read
        self._ready = False  # while the vocabulary itself is read, only long words are split
        self._domain: frozenset[str] = frozenset()
        self._emoji = vocabulary.emoji
        self._contractions = {
            k.translate(_APOSTROPHES): v for k, v in vocabulary.contractions.items()
        }
        self._misspellings = vocabulary.misspellings
        self._spelling = sorted(set(vocabulary.spelling))
        self._phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        for canonical, phrases in vocabulary.synonyms.items():
            for phrase in phrases:
                key = tuple(self._base_tokens(phrase))
                if key and key != tuple(canonical.split()):
                    self._phrases[key] = tuple(canonical.split())
        lengths: dict[str, set[int]] = {}
        for key in self._phrases:
            lengths.setdefault(key[0], set()).add(len(key))
        # first word -> the phrase lengths that start with it, longest first
        self._lengths = {w: sorted(n, reverse=True) for w, n in lengths.items()}
        known = set(common_words)
        known.update(self._spelling)
        known.update(vocabulary.misspellings.values())
        known.update(w for v in vocabulary.contractions.values() for w in v.split())
        for canonical, phrases in vocabulary.synonyms.items():
            known.update(canonical.split())
            for phrase in phrases:
                known.update(self._base_tokens(phrase))
        for text in known_words:
            known.update(self._base_tokens(text))
        self._known = frozenset(known)
        # The bot's own words (not the common-word list): kept whole when splitting words
        # typed without spaces.
        self._domain = frozenset(known - set(common_words)) | frozenset(self._spelling)
        self._ready = True
        self._cache: SizedCache[None, Normalised] = SizedCache(
            lambda text, _: self._normalise(text), CACHE_CHARACTERS
        )

    @classmethod
    def from_files(
        cls, vocabulary: Path, common_words: Path | None = None, known_words: Iterable[str] = ()
    ) -> Normaliser:
        common = (
            load_yaml_model(common_words, CommonWordsFile).words.split() if common_words else []
        )
        return cls(load_yaml_model(vocabulary, VocabularyFile), known_words, common)

    @property
    def known_words(self) -> frozenset[str]:
        return self._known

    # -- steps ---------------------------------------------------------------------------

    def _clean(self, text: str) -> str:
        if not text.isascii():
            # Invisible format characters (zero-width space, soft hyphen, word joiner,
            # direction marks) go; compatibility forms and look-alike letters of other
            # scripts become plain letters ("ѕеіzurе" with Cyrillic letters is "seizure").
            text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))
            text = text.translate(_LOOKALIKES)
        for symbol, word in self._emoji.items():
            if symbol in text:
                text = text.replace(symbol, f" {word} ")
        text = text.casefold().translate(_APOSTROPHES)
        if text.isascii():
            return text
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

    def _join_spaced(self, text: str) -> str:
        """Letters spaced out ("s e i z u r e", "s.e.i.z.u.r.e") become the word they spell,
        when it is a word the bot knows."""

        def join(m: re.Match[str]) -> str:
            word = re.sub(r"[^a-z]", "", m.group())
            return word if word in self._known else m.group()

        return _SPACED.sub(join, text)

    def _split_run_together(self, token: str) -> list[str]:
        """Words typed without spaces ("imitchyalloverandmypumpbeeped", "been20min") split into
        words, the bot's own words kept whole ("bac l of en" is put back to "baclofen"). A short
        token is split only when every part is a known word (a misspelling stays whole)."""
        if not self._ready:  # reading the vocabulary: no known words to split into yet
            if len(token) < RUN_TOGETHER or not token.isalpha():
                return [token]
            return self._ninja(token)
        if token in self._known or len(token) < RUN_TOGETHER_SHORT:
            return [token]
        if token.isalpha():
            return self._split_letters(token)
        runs = _LETTERS_AND_DIGITS.findall(token)
        if len(runs) < 2 or "".join(runs) != token:
            return [token]  # "25mg/5ml", "t-shirt": not letters and numbers run together
        out: list[str] = []
        for run in runs:
            if not run.isalpha():
                out.append(run)
                continue
            unit = _UNIT_START.match(run) if out and out[-1][0].isdigit() else None
            if unit and len(run) - unit.end() >= 3:  # "25mlinsted": "25 ml insted"
                out.append(unit.group())
                run = run[unit.end() :]
            out.extend(self._split_letters(run))
        return out

    def _split_letters(self, token: str) -> list[str]:
        if token in self._known or len(token) < 5 or self._spell(token) != token:
            return [token]  # a known word, or a misspelling the spelling step will fix
        if len(token) >= RUN_TOGETHER:
            return self._ninja(token)
        parts = self._ninja(token)
        if len(parts) > 1 and all(p in self._known and len(p) > 1 for p in parts):
            return parts
        return [token]

    def _ninja(self, token: str) -> list[str]:
        import wordninja  # only for the rare message that needs it (import costs 80 ms)

        parts = [str(p) for p in wordninja.split(token)]
        out: list[str] = []
        i = 0
        while i < len(parts):
            for j in range(len(parts), i + 1, -1):
                joined = "".join(parts[i:j])
                if joined in self._domain:
                    out.append(joined)
                    i = j
                    break
            else:
                out.append(parts[i])
                i += 1
        return out if len(out) > 1 else [token]

    def _base_tokens(self, text: str) -> list[str]:
        """Clean, split and expand contractions (no spelling or synonyms)."""
        out: list[str] = []
        cleaned = self._clean(text)
        if _SPACED.search(cleaned):
            cleaned = self._join_spaced(cleaned)
        repeats = _REPEATS.search(cleaned) is not None
        for raw in _TOKEN.findall(cleaned):
            token = _REPEATS.sub(r"\1\1", raw) if repeats else raw
            if any(c.isdigit() for c in token):
                token = _LEET.sub(lambda m: _LEET_LETTERS[m.group()], token)
                token = _O_FOR_ZERO.sub("0", token)
            if token not in self._contractions and token.endswith("'s"):
                token = token[:-2]  # possessive: "mum's pump" -> "mum pump"
            expansion = self._contractions.get(token, token.replace("'", ""))
            for word in expansion.split():
                for part in self._split_run_together(word):
                    out.extend(self._contractions.get(part, part).split())
        return out

    def _spell(self, token: str) -> str:
        fixed = self._misspellings.get(token)
        if fixed:
            return fixed
        if token in self._known or not token.isalpha():
            return token
        single = re.sub(r"([a-z])\1+", r"\1", token)  # "helpp" -> "help"
        if single != token and single in self._known:
            return single
        if token.endswith("in") and token + "g" in self._known:
            return token + "g"  # dropped g: "weanin" -> "weaning", "droppin" -> "dropping"
        if len(token) < 4:
            return token
        limit = 1 if len(token) <= 7 else 2
        candidates = [w for w in self._spelling if w[0] == token[0]]  # typos keep the first letter
        match = process.extractOne(
            token, candidates, scorer=Levenshtein.distance, score_cutoff=limit
        )
        return str(match[0]) if match else token

    def _synonyms(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for size in self._lengths.get(tokens[i], ()):
                canonical = self._phrases.get(tuple(tokens[i : i + size]))
                if canonical is not None:
                    out.extend(canonical)
                    i += size
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def normalise(self, text: str) -> Normalised:
        """The normalised message (cached for repeated messages, within a size budget)."""
        return self._cache.get(text, None)

    def clear_cache(self) -> None:
        self._cache.clear()

    def _normalise(self, text: str) -> Normalised:
        tokens = [self._spell(t) for t in self._base_tokens(text)]
        return Normalised(tuple(self._synonyms(tokens)))
