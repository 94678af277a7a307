"""The text of a reply tool's `message` argument (send_message's) as the model writes its
arguments: what a token stream shows of the call, as Letta's did, while the arguments are
still incomplete JSON."""

import json


class ReplyText:
    """Fed the arguments' JSON text piece by piece, gives back the new text of the top-level
    `"message"` string each time (decoded; an escape cut between two pieces waits for its
    end). Nothing if the object has no such string."""

    def __init__(self) -> None:
        self.text = ""  # the arguments so far
        self.scanned = 0  # how far `text` was scanned for the key
        self.depth = 0
        self.in_string = False
        self.escaped = False
        self.string_start = 0
        self.reading_key = False
        self.key: str | None = None
        self.expect_value = False  # after the current key's colon
        self.value_start: int | None = None  # where the message's string begins
        self.given = 0  # characters of the decoded message given back so far
        self.not_text = False  # the message is not a string: nothing to give

    def feed(self, piece: str) -> str:
        self.text += piece
        if self.value_start is None and not self.not_text:
            self._scan()
        if self.value_start is None:
            return ""
        decoded = _decoded_prefix(self.text, self.value_start)
        new, self.given = decoded[self.given :], max(self.given, len(decoded))
        return new

    def _scan(self) -> None:
        text, index = self.text, self.scanned
        while index < len(text):
            char = text[index]
            index += 1
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif char == "\\":
                    self.escaped = True
                elif char == '"':
                    self.in_string = False
                    if self.reading_key:
                        self.key = text[self.string_start : index - 1]
                continue
            top = self.depth == 1
            if char == '"':
                if top and self.expect_value and self.key == "message":
                    self.value_start = index
                    break
                self.in_string, self.string_start = True, index
                self.reading_key = top and not self.expect_value
            elif char in "{[":
                if top and self.expect_value and self.key == "message":
                    self.not_text = True
                    break
                self.depth += 1
            elif char in "}]":
                self.depth -= 1
            elif top and char == ":":
                self.expect_value = True
            elif top and char == ",":
                self.expect_value, self.key = False, None
            elif top and self.expect_value and self.key == "message" and not char.isspace():
                self.not_text = True  # a number, true, null: not a text
                break
        self.scanned = index


def _decoded_prefix(text: str, start: int) -> str:
    """The string that begins at `start` of `text`, decoded as far as it is complete."""
    index, escaped = start, False
    while index < len(text):
        char = text[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            break
        index += 1
    raw = text[start:index]
    if escaped:  # a backslash whose escape has not come yet
        raw = raw[:-1]
    while (cut := raw.rfind("\\u")) != -1 and _escape_open(raw, cut):
        raw = raw[:cut]  # and again: what is left may end with a high surrogate
    try:
        return str(json.loads(f'"{raw}"', strict=False))
    except json.JSONDecodeError:
        return ""


def _escape_open(raw: str, cut: int) -> bool:
    """Whether the `\\u` escape at `cut` is unfinished, or a high surrogate whose low half
    has not come yet (given alone, it would be no character at all)."""
    backslashes = len(raw[:cut]) - len(raw[:cut].rstrip("\\"))
    if backslashes % 2:  # `\\u`: an escaped backslash, then a plain u
        return False
    digits = raw[cut + 2 : cut + 6]
    if len(digits) < 4:
        return True
    return len(raw) == cut + 6 and "d800" <= digits.lower() <= "dbff"
