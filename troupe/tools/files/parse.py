"""Uploaded bytes to text. Each format troupe reads is one small reader; anything else, or
a file a reader cannot make sense of, is refused with a message that says why, before
anything is stored."""

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath

from troupe.errors import InvalidInput, Unsupported

# NUL and unpaired surrogates: PostgreSQL refuses them, and they are not text anyway.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class ParsedFile:
    text: str
    file_type: str  # the MIME type shown on the file


def _decode(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"{name!r} is not UTF-8 text (byte {error.start} cannot be decoded); "
            "save it as UTF-8 and upload it again"
        ) from None
    if "\x00" in text:
        raise InvalidInput(f"{name!r} holds NUL bytes: it is binary, not text")
    return text.replace("\r\n", "\n")


def _plain(data: bytes, name: str) -> str:
    return _decode(data, name)


def _json(data: bytes, name: str) -> str:
    text = _decode(data, name)
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{name!r} is not valid JSON: {error}") from None
    return text


def _csv(data: bytes, name: str) -> str:
    text = _decode(data, name)
    try:
        # strict: without it the reader takes an unclosed quote to the end of the file as a field.
        for _row in csv.reader(io.StringIO(text, newline=""), strict=True):
            pass
    except csv.Error as error:
        raise InvalidInput(f"{name!r} is not valid CSV: {error}") from None
    return text


class _TextOfHtml(HTMLParser):
    """The visible text of an HTML page, a line per block element; scripts and styles out."""

    BLOCKS = frozenset({
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "section",
        "article", "header", "footer", "table", "ul", "ol",
    })  # fmt: skip
    HIDDEN = frozenset({"script", "style", "head", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def _html(data: bytes, name: str) -> str:
    reader = _TextOfHtml()
    reader.feed(_decode(data, name))
    reader.close()
    return reader.text()


def _pdf(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise InvalidInput(f"{name!r} is an encrypted PDF; upload it without a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InvalidInput:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise InvalidInput(f"{name!r} is not a readable PDF ({error})") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise InvalidInput(
            f"{name!r} has no text layer (a scanned PDF?); troupe reads the text of a PDF only"
        )
    return text


Reader = Callable[[bytes, str], str]
# By file extension: what troupe reads, and the MIME type it reports.
READERS: dict[str, tuple[Reader, str]] = {
    ".txt": (_plain, "text/plain"),
    ".text": (_plain, "text/plain"),
    ".log": (_plain, "text/plain"),
    ".md": (_plain, "text/markdown"),
    ".markdown": (_plain, "text/markdown"),
    ".json": (_json, "application/json"),
    ".csv": (_csv, "text/csv"),
    ".html": (_html, "text/html"),
    ".htm": (_html, "text/html"),
    ".pdf": (_pdf, "application/pdf"),
}
# For a name without an extension troupe knows, the type the client declared.
BY_MIME = {mime: ext for ext, (_reader, mime) in reversed(READERS.items())}


def supported_extensions() -> str:
    return ", ".join(sorted(READERS))


def parse_file(name: str, data: bytes, declared_type: str | None = None) -> ParsedFile:
    """The text of an uploaded file. Raises Unsupported for a format troupe does not read,
    InvalidInput for a file that claims a format it does not hold (or holds no text)."""
    extension = PurePath(name).suffix.lower()
    if extension not in READERS:
        mime = (declared_type or "").split(";")[0].strip().lower()
        if mime not in BY_MIME:
            raise Unsupported(f"cannot read {name!r}: troupe reads {supported_extensions()} files")
        extension = BY_MIME[mime]
    if not data:
        raise InvalidInput(f"{name!r} is empty")
    reader, mime = READERS[extension]
    text = _UNSTORABLE.sub("\ufffd", reader(data, name))
    if not text.strip():
        raise InvalidInput(f"{name!r} holds no text")
    return ParsedFile(text, mime)
