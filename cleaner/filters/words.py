"""Word lists and punctuation the line and document filters share, kept below both of them.

The generic classifier and the quality heuristics must read "a stop word" and "a line that
ends like a sentence" the same way; one definition here keeps them from drifting apart.
"""

from __future__ import annotations

from functools import cache

# jusText names its stop lists by English language name; documents carry ISO 639-1 codes.
JUSTEXT_LANGUAGES = {
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "hu": "Hungarian",
    "it": "Italian",
    "nl": "Dutch",
    "no": "Norwegian_Bokmal",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
}

# A line ending in one of these ends like a sentence (or a quotation of one, or a colon
# introducing what follows): in Latin scripts, and in those and Chinese and Japanese. The generic
# classifier still reads only the Latin endings (its thresholds were set on Latin-script text);
# giving it the full set changes its evidence on Chinese and Japanese pages.
LATIN_TERMINAL = (".", "!", "?", "…", '"', "”", "“", "»", "«", "'", "’", ":")
TERMINAL = (*LATIN_TERMINAL, "。", "！", "？", "」", "』")
# What ends a sentence for the line classifier's features: stricter than TERMINAL (a closing
# quote or bracket counts only after a full stop, "!" or "?"), and in more scripts; the shipped
# model was trained with exactly these.
SENTENCE_END = (".", "!", "?", "…", "。", "！", "？", "।", "؟", "۔", '."', ".”", ".»", "!”", "?”", ".'", ".’", ".)")


@cache
def stop_words(lang: str) -> frozenset[str] | None:
    """jusText's stop list for an ISO code, or None when there is none (the check is skipped)."""
    import justext

    name = JUSTEXT_LANGUAGES.get(lang)
    return frozenset(w.lower() for w in justext.get_stoplist(name)) if name else None
