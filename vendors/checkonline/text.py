"""Text as the register keeps it: its fiscal storage holds CP866 (ST32 §2.1.3)."""

# Typography that CP866 lacks, replaced by what the register can print (a name like
# Книга «Кассовая дисциплина» must not stop a receipt).
_TYPOGRAPHY = str.maketrans(
    {
        "«": '"',
        "»": '"',
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "—": "-",
        "–": "-",
        "‑": "-",
        "…": "...",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


def printable(text):
    """The text with typographic quotes, dashes and spaces made CP866-printable."""
    return (text or "").translate(_TYPOGRAPHY)


def unprintable(text):
    """The characters of ``text`` the register cannot print, even with its typography replaced."""
    return _not_cp866(printable(text))


def _not_cp866(text):
    refused = []
    for char in text:
        try:
            char.encode("cp866")
        except UnicodeEncodeError:
            if char not in refused:
                refused.append(char)
    return refused


def check_text(field, text, limit, problems, required=""):
    """CP866, length, presence of a text field; what is wrong is added to ``problems``."""
    if not text or not text.strip():
        if required:
            problems.append((field, required, text))
        return
    if len(text) > limit:
        problems.append((field, f'"{text}" is {len(text)} characters long; {limit} at most', text))
    refused = _not_cp866(text)
    if refused:
        shown = ", ".join(f"{char!r} (U+{ord(char):04X})" for char in refused)
        problems.append(
            (field, f'"{text}" contains characters the fiscal storage cannot hold (CP866): {shown}', text)
        )
