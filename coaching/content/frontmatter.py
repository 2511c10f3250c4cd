"""A strict YAML front-matter reader.

PyYAML is used only as a parser: its event stream is turned into plain
strings, lists and dicts by hand, so no constructor ever runs. That rules out
tags (`!!python/...`), YAML 1.1 implicit typing (`no` -> False), dates
(`2024-02-30` -> ValueError) and alias bombs (rejected at the first anchor,
before anything is expanded). Values are then coerced per schema.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .catalog import LANGUAGES, SHOW_ANSWERS


class FrontMatterError(Exception):
    """A problem at one line of the file (1-based, counted in the whole file)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class Scalar:
    """A YAML scalar kept as text; `plain` is False when it was quoted."""

    value: str
    line: int
    plain: bool


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML mapping (`items`: key -> (key line, value)) or sequence (`seq`)."""

    line: int
    items: dict[str, tuple[int, Any]] | None = None
    seq: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A file split into its front matter mapping and Markdown body."""

    meta: Node
    body: str
    body_line: int  # file line number of the body's first line


def split(text: str) -> tuple[str, str, int]:
    """Split text into (yaml, body, body line); the BOM must already be stripped."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise FrontMatterError(1, "the file must start with a line of exactly '---' "
                                  "opening the front matter")
    for i in range(1, len(lines)):
        if lines[i].rstrip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:]), i + 2
    raise FrontMatterError(1, "the front matter opened here is never closed by a line of '---'")


def parse(text: str) -> Document:
    """Parse a whole file (newlines normalised, BOM stripped) into a Document."""
    source, body, body_line = split(text)
    meta = load_yaml(source, first_line=2)
    return Document(meta, body, body_line)


# The resolver's own pattern for timestamps: such plain scalars are refused, valid or not.
_TIMESTAMP = re.compile(
    r"^(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?)$")


MAX_DEPTH = 8


# libyaml's parser (when PyYAML was built with it) reads the events about ten times faster. Its error texts
# differ from the Python parser's, which `explain` translates, and it lets a tab after "key:" pass: so it only
# reads sources without tabs, and anything it refuses is read again by the Python parser for the message.
_FAST_PARSER = getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None


def _events(source: str) -> list[yaml.Event] | Any:
    """The parser events of `source`: libyaml's when it reads them without complaint, else the Python parser's
    (raising its errors)."""
    if _FAST_PARSER is not None and "\t" not in source:
        try:
            events = list(yaml.parse(source, Loader=_FAST_PARSER))
        except yaml.YAMLError:
            pass
        else:
            for event in events:
                if isinstance(event, yaml.ScalarEvent) and event.style == "":
                    event.style = None  # plain, as the Python parser says it
            return events
    return yaml.parse(source, Loader=yaml.SafeLoader)


def load_yaml(source: str, *, first_line: int = 1, fast: bool = True) -> Node:
    """Read YAML into Nodes and Scalars; raise FrontMatterError on anything not allowed. `fast=False` reads
    with the Python parser only (the tests compare both)."""
    builder = _Builder(first_line)
    try:
        for event in (_events(source) if fast else yaml.parse(source, Loader=yaml.SafeLoader)):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        line, message = explain(exc, source)
        raise FrontMatterError(first_line + line, message) from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(first_line, f"invalid YAML: {exc}") from None
    root = builder.root
    if root is None:
        return Node(first_line - 1, items={})
    if not isinstance(root, Node) or root.items is None:
        raise FrontMatterError(root.line, "the front matter must be a mapping of 'key: value' lines")
    # Missing keys are reported at the opening '---' line.
    return Node(first_line - 1, items=root.items)


def explain(exc: yaml.MarkedYAMLError, source: str) -> tuple[int, str]:
    """Turn a YAML parser error into (line in `source`, 0-based; a message saying what to do)."""
    problem, context = exc.problem or "", exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line if mark else 0
    lines = source.split("\n")
    text = lines[line] if line < len(lines) else ""
    if "quoted scalar" in context and "end of stream" in problem:
        opened = exc.context_mark.line if exc.context_mark else line
        return opened, "a quote is opened but never closed: end the value with the same quote (\" or ')"
    if "'\\t'" in problem or "tab character" in problem:
        return line, "tabs are not allowed in the settings: use spaces"
    if problem == "mapping values are not allowed here":
        if text[:1] in (" ", "\t"):
            return line, ("this line is indented: settings start at the beginning of the line (only the "
                          "entries under a key such as 'certificate:' are indented, by two spaces)")
        return line, "a value contains ': ': put the whole value in quotes, e.g. title: \"Step 1: the click\""
    if m := re.match(r"found character '(.)' that cannot start any token", problem):
        return line, f"a value starts with '{m.group(1)}': put the whole value in quotes"
    if problem.startswith("expected <block end>, but found '<block mapping start>'"):
        return line, ("the indentation does not line up: keys start at the beginning of the line, the "
                      "entries under a key such as 'certificate:' by the same number of spaces")
    if problem.startswith("expected <block end>, but found '<scalar>'"):
        return line, ("a value starts with a quote, '[' or '{' and goes on after it: put the whole value "
                      "in quotes, e.g. title: \"[draft] lesson\"")
    if re.match(r"expected ',' or '[\]}]', but got", problem):
        return line, ("a value that starts with '[' or '{' is read as a list or mapping: put the whole value "
                      "in quotes, e.g. title: \"[draft] lesson\"")
    if problem == "could not find expected ':'":
        return (exc.context_mark.line if exc.context_mark else line), (
            "a line is not 'key: value': add the ': ' after the key, or put a long value in quotes")
    return line, f"invalid YAML: {problem or context}"


@dataclass
class _Builder:
    """Builds Nodes from parser events, refusing anchors, aliases, tags and dates."""

    first_line: int
    root: Any = None
    stack: list[Any] = field(default_factory=list)  # open Nodes
    pending_key: list[tuple[str, int] | None] = field(default_factory=list)
    documents: int = 0

    def line(self, event: yaml.Event) -> int:
        """Return the file line of an event."""
        return self.first_line + event.start_mark.line

    def feed(self, event: yaml.Event) -> None:
        """Consume one parser event."""
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise FrontMatterError(self.line(event), "the front matter holds more than one "
                                                         "YAML document")
        if isinstance(event, yaml.AliasEvent):
            raise FrontMatterError(self.line(event), "YAML aliases (*name) are not allowed")
        if getattr(event, "anchor", None):
            raise FrontMatterError(self.line(event), "YAML anchors (&name) are not allowed")
        if getattr(event, "tag", None):
            tag = event.tag.replace("tag:yaml.org,2002:", "!!")
            raise FrontMatterError(self.line(event), f"YAML tags ({tag[:60]}) are not allowed")
        if isinstance(event, yaml.ScalarEvent):
            self.add(self.scalar(event), event)
        elif isinstance(event, yaml.MappingStartEvent):
            self.open(Node(self.line(event), items={}), event)
        elif isinstance(event, yaml.SequenceStartEvent):
            self.open(Node(self.line(event), seq=[]), event)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            node = self.stack.pop()
            self.pending_key.pop()
            self.place(node, event)

    def scalar(self, event: yaml.ScalarEvent) -> Scalar:
        """Turn a scalar event into a Scalar, refusing plain dates."""
        plain = event.style is None
        if plain and _TIMESTAMP.match(event.value):
            raise FrontMatterError(self.line(event), f"dates are not supported ({event.value}); "
                                                     "put the value in quotes if it is text")
        return Scalar(event.value, self.line(event), plain)

    def open(self, node: Node, event: yaml.Event) -> None:
        """Start a mapping or sequence (it is placed in its parent when it ends)."""
        if self.stack and self._expects_key():
            raise FrontMatterError(node.line, "a key must be a plain word, not a mapping or list")
        if len(self.stack) >= MAX_DEPTH:  # front matter is flat; deep nesting is only an attack
            raise FrontMatterError(node.line, f"the front matter is nested more than {MAX_DEPTH} "
                                              "levels deep")
        self.stack.append(node)
        self.pending_key.append(None)

    def add(self, value: Scalar, event: yaml.Event) -> None:
        """Add a scalar: as a key, a value, a list item or the whole document."""
        if self.stack and self._expects_key():
            self.pending_key[-1] = (value.value, value.line)
            return
        self.place(value, event)

    def _expects_key(self) -> bool:
        """Return True when the innermost open node is a mapping waiting for a key."""
        return self.stack[-1].items is not None and self.pending_key[-1] is None

    def place(self, value: Any, event: yaml.Event) -> None:
        """Put a finished value into its parent."""
        if not self.stack:
            self.root = value
            return
        parent = self.stack[-1]
        if parent.seq is not None:
            parent.seq.append(value)
            return
        key, key_line = self.pending_key[-1]
        if key in parent.items:
            raise FrontMatterError(key_line, f"duplicate key '{key}' (first on line "
                                             f"{parent.items[key][0]})")
        parent.items[key] = (key_line, value)
        self.pending_key[-1] = None


@dataclass(frozen=True, slots=True)
class Field:
    """One front matter key: its type, whether it is required and its bounds."""

    kind: str  # "str" | "int" | "bool" | "lang" | "path" | "map" | "choice"
    required: bool = False
    low: int | None = None
    high: int | None = None
    fields: dict[str, Field] | None = None  # for kind "map"
    choices: tuple[str, ...] = ()  # for kind "choice"


Issue = tuple[int, str, str]  # (line, message, severity)


def coerce(node: Node, schema: dict[str, Field], *, full: dict[str, Field] | None = None,
           where: str = "") -> tuple[dict[str, Any], list[Issue]]:
    """Check a mapping against a schema; return typed values and (line, message, severity).

    `full` is the default-language schema when `schema` is a translation's: its extra keys
    are then reported as ignored in a translation instead of unknown.
    """
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    for key, (line, value) in node.items.items():
        spec = schema.get(key)
        if spec is None:
            issues.append(_unknown(key, line, schema, full, where))
            continue
        try:
            values[key] = _coerce_value(value, spec, f"{where}{key}", issues, full and full.get(key))
        except FrontMatterError as exc:
            issues.append((exc.line, exc.message, "error"))
    for key, spec in schema.items():
        if spec.required and key not in node.items:
            issues.append((node.line, f"missing required key '{where}{key}'", "error"))
    return values, issues


def _unknown(key: str, line: int, schema: dict[str, Field], full: dict[str, Field] | None,
             where: str) -> Issue:
    """Report a key that is not in the schema: ignored in a translation, misspelt, or unknown."""
    if full and key in full:
        return line, f"'{where}{key}': ignored in a translation", "warning"
    close = difflib.get_close_matches(str(key).lower(), list(schema), n=1, cutoff=0.75)
    if close:
        return line, f"unknown key '{where}{key}': did you mean '{where}{close[0]}'?", "error"
    return line, f"'{where}{key}': unknown key, ignored", "warning"


def _coerce_value(value: Any, spec: Field, name: str, issues: list[Issue],
                  full: Field | None = None) -> Any:
    """Coerce one value or raise FrontMatterError with its line."""
    if spec.kind == "map":
        if not isinstance(value, Node) or value.items is None:
            raise FrontMatterError(_line(value), f"'{name}' must be a mapping of 'key: value' lines")
        sub, sub_issues = coerce(value, spec.fields or {}, full=full.fields if full else None,
                                 where=f"{name}.")
        issues.extend(sub_issues)
        return sub
    if not isinstance(value, Scalar):
        raise FrontMatterError(_line(value), f"'{name}' must be a single value, not a list or mapping")
    return _SCALARS[spec.kind](value, spec, name)


def _line(value: Any) -> int:
    """Return the line of a Node or Scalar."""
    return value.line


def _as_str(value: Scalar, spec: Field, name: str) -> str:
    """A non-empty string, whatever YAML 1.1 would have made of it."""
    text = value.value.strip()
    if not text or (value.plain and text in ("~", "null", "Null", "NULL")):
        raise FrontMatterError(value.line, f"'{name}' must not be empty")
    return text


def _as_int(value: Scalar, spec: Field, name: str) -> int:
    """A whole number in digits within the field's bounds."""
    text = value.value.strip()
    # Bounded length: int() of thousands of digits raises ValueError in Python 3.11+.
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise FrontMatterError(value.line, f"'{name}' must be a whole number, got '{text[:40]}'")
    number = int(text)
    if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
        bounds = f"{spec.low}-{spec.high}" if spec.high is not None else f"at least {spec.low}"
        raise FrontMatterError(value.line, f"'{name}' must be {bounds}, got {number}")
    return number


def _as_bool(value: Scalar, spec: Field, name: str) -> bool:
    """Exactly `true` or `false`: no yes/no/on/off guessing."""
    if value.value not in ("true", "false"):
        raise FrontMatterError(value.line, f"'{name}' must be true or false, "
                                           f"got '{value.value[:40]}'")
    return value.value == "true"


def _as_lang(value: Scalar, spec: Field, name: str) -> str:
    """One of the supported language codes."""
    if value.value not in LANGUAGES:
        raise FrontMatterError(value.line, f"'{name}' must be one of {', '.join(LANGUAGES)}, "
                                           f"got '{value.value[:40]}'")
    return value.value


def _as_path(value: Scalar, spec: Field, name: str) -> tuple[str, int]:
    """A relative path, kept with its line so the loader can report a missing file there."""
    return _as_str(value, spec, name), value.line


def _as_choice(value: Scalar, spec: Field, name: str) -> str:
    """One of the field's fixed words."""
    if value.value not in spec.choices:
        raise FrontMatterError(value.line, f"'{name}' must be one of {', '.join(spec.choices)}, "
                                           f"got '{value.value[:40]}'")
    return value.value


_SCALARS = {"str": _as_str, "int": _as_int, "bool": _as_bool, "lang": _as_lang, "path": _as_path,
            "choice": _as_choice}

CERTIFICATE = {
    "title": Field("str"),
    "signer_name": Field("str"),
    "signer_role": Field("str"),
    "validity_months": Field("int", low=1, high=1200),
    "logo": Field("path"),
}

COURSE = {
    "title": Field("str", required=True),
    "summary": Field("str", required=True),
    "order": Field("int", required=True, low=0),
    "language": Field("lang"),
    "pass_mark": Field("int", low=0, high=100),
    "published": Field("bool"),
    "allow_external_images": Field("bool"),
    "certificate": Field("map", fields=CERTIFICATE),
}
COURSE_TRANSLATION = {
    "title": Field("str", required=True),
    "summary": Field("str", required=True),
    "certificate": Field("map", fields={"title": Field("str")}),
}

LESSON = {
    "title": Field("str", required=True),
    "summary": Field("str", required=True),
    "minutes": Field("int", required=True, low=1, high=10000),
    "pass_mark": Field("int", low=0, high=100),
    "max_attempts": Field("int", low=1),
    "shuffle": Field("bool"),
    "show_answers": Field("choice", choices=SHOW_ANSWERS),
    "exam": Field("bool"),
    "submission": Field("str"),  # an assignment's: text or text+link (checked in assignment.py)
    "max_length": Field("int", low=1, high=100000),
}
LESSON_TRANSLATION = {
    "title": Field("str", required=True),
    "summary": Field("str", required=True),
    "minutes": Field("int", required=True, low=1, high=10000),
}
