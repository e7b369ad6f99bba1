"""Telegram-flavoured HTML parsing for the fake Bot API.

Telegram does not accept general HTML: only a closed set of tags, only four named entities,
balanced tags. This module mirrors the rules (and the error texts) of tdlib's ``parse_html``
closely enough that a reply the fake accepts is one Telegram accepts, and turns the text into
what Telegram returns: the plain text plus ``MessageEntity`` dicts with UTF-16 offsets.
"""

import re
from dataclasses import dataclass, field
from typing import Any

# Tag name -> entity type; "a", "span", "code" and "blockquote" are refined by their attributes.
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_SPACE = " \t\r\n"


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(error)`` is tdlib's description."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text (tags removed, entities decoded) and the formatting Telegram derives."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    start: int  # UTF-16 offset in the plain text where the entity begins
    merged: bool = False  # a <code> that only names the language of its <pre>


# Where plain text stops: a tag or an entity.
_SPECIAL_RE = re.compile(r"[&<]")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    # tdlib reports positions in UTF-8 bytes, not characters.
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, index: int) -> tuple[str, int] | None:
    match = _ENTITY_RE.match(text, index)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_ENTITIES[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _unescape_attribute(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        decoded = _decode_entity(value, i) if value[i] == "&" else None
        if decoded is None:
            out.append(value[i])
            i += 1
        else:
            out.append(decoded[0])
            i = decoded[1]
    return "".join(out)


def _parse_attributes(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Read attributes of a start tag from ``i``; return them and the index after ``>``."""
    attributes: dict[str, str] = {}
    size = len(text)
    while True:
        while i < size and text[i] in _SPACE:
            i += 1
        if i >= size:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        if text[i] == ">":
            return attributes, i + 1
        name_start = i
        while i < size and text[i] not in _SPACE and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        while i < size and text[i] in _SPACE:
            i += 1
        if i < size and text[i] != "=":
            # A bare attribute such as <blockquote expandable>.
            attributes[name] = ""
            continue
        if i >= size:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        i += 1
        while i < size and text[i] in _SPACE:
            i += 1
        if i >= size:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        if text[i] in "\"'":
            quote = text[i]
            end = text.find(quote, i + 1)
            if end < 0:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            raw_value = text[i + 1 : end]
            i = end + 1
        else:
            value_start = i
            while i < size and text[i] not in _SPACE and text[i] != ">":
                i += 1
            raw_value = text[value_start:i]
        attributes[name] = _unescape_attribute(raw_value)


def _entity_for(tag: _OpenTag, end: int) -> dict[str, Any] | None:
    """Build the MessageEntity dict for a closed tag, or None when it covers no text."""
    length = end - tag.start
    if length <= 0 or tag.merged:
        return None
    kind = _TAG_ENTITY[tag.name]
    entity: dict[str, Any] = {"type": kind, "offset": tag.start, "length": length}
    if tag.name == "a":
        href = tag.attributes.get("href", "")
        if not href:
            return None
        entity["url"] = href
    elif tag.name == "pre":
        language = tag.attributes.get("language")
        if language:
            entity["language"] = language
    elif tag.name == "blockquote" and "expandable" in tag.attributes:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attributes.get("emoji-id", "")
    return entity


def parse_html(text: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse Telegram HTML, raising ``EntityParseError`` with tdlib's description on bad input.

    Telegram itself prints a bare ``&`` literally; ``strict_ampersand`` (the default) rejects it
    so that a reply built from unescaped user text fails in tests instead of in production.
    """
    out: list[str] = []
    out_utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    size = len(text)
    i = 0
    while i < size:
        char = text[i]
        if char == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                out_utf16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Unsupported HTML entity or unescaped "&" at byte offset '
                    f"{_byte_offset(text, i)}"
                )
            out.append(char)
            out_utf16 += 1
            i += 1
            continue
        if char != "<":
            # The whole run of plain text up to the next tag or entity at once.
            special = _SPECIAL_RE.search(text, i)
            stop = special.start() if special is not None else size
            run = text[i:stop]
            out.append(run)
            out_utf16 += utf16_len(run)
            i = stop
            continue
        begin = i
        if i + 1 >= size:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        if text[i + 1] == "/":
            close = text.find(">", i + 2)
            if close < 0:
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(text, begin)}"
                )
            end_name = text[i + 2 : close].strip(_SPACE).lower()
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            if stack[-1].name != end_name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{stack[-1].name}>", found "</{end_name}>"'
                )
            entity = _entity_for(stack.pop(), out_utf16)
            if entity is not None:
                entities.append(entity)
            i = close + 1
            continue
        i += 1
        name_start = i
        while i < size and text[i] not in _SPACE and text[i] != ">":
            i += 1
        if i >= size:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        name = text[name_start:i].lower()
        if name not in _TAG_ENTITY:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attributes, i = _parse_attributes(text, i, name, begin)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        merged = False
        if name == "code" and stack and stack[-1].name == "pre":
            # <pre><code class="language-python"> gives the pre block its language instead of
            # adding a code entity, as Telegram does.
            language = attributes.get("class", "")
            if language.startswith("language-"):
                stack[-1].attributes["language"] = language.removeprefix("language-")
                merged = True
        stack.append(_OpenTag(name, attributes, out_utf16, merged))
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return ParsedText("".join(out), entities)


def strip_html(text: str) -> str:
    """Best-effort plain text of possibly invalid HTML, for recording rejected messages."""
    try:
        return parse_html(text, strict_ampersand=False).text
    except EntityParseError:
        return text
