"""JSON Schema -> llama.cpp GBNF grammar, for the finite schemas the summary stage generates.

Why not llama-cpp-python's own converter: it unrolls a bounded repetition (a string of at most 1,080
characters, say) into 1,080 nested optional groups, which llama.cpp's grammar parser rejects ("exceeds
sane defaults"). Here every repeated item is a rule of its own and bounds use GBNF's native `{m,n}`, which
llama.cpp accepts up to 2,000 repetitions of a one-symbol item.

The output is compact JSON with the separators xgrammar uses on the transformers path (", " and ": ", no
other whitespace), keys in schema order, every property required. Supported: objects, arrays with
maxItems, strings with a `pattern` made of literals, character classes, groups and ?/{m,n} quantifiers,
string enums and consts, bounded numbers, null, anyOf and $ref. Anything else raises ValueError, so a
schema change cannot silently produce an unbounded grammar.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Longest JSON number the grammar writes: 19 integer digits and 6 decimals hold any bounded value the
# summary allows (its bound is 1e18) at the precision news figures need.
_NUMBER = '"-"? ("0" | [1-9] [0-9]{0,18}) ("." [0-9]{1,6})?'
_QUANTIFIER = re.compile(r"\?|\{(\d+)(?:,(\d*))?\}")


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """The GBNF grammar (root rule `root`) of the JSON documents `schema` accepts."""
    return _Converter(schema).grammar()


class _Converter:
    def __init__(self, schema: dict[str, Any]):
        self.definitions = schema.get("$defs", {})
        self.schema = schema
        self.rules: dict[str, str] = {}

    def grammar(self) -> str:
        self.rules["root"] = self.value(self.schema, "root")
        return "\n".join(f"{name} ::= {body}" for name, body in self.rules.items()) + "\n"

    def rule(self, name: str, body: str) -> str:
        """A named rule for `body` (reused when the same body recurs); returns the name."""
        for existing, known in self.rules.items():
            if known == body:
                return existing
        name = re.sub(r"[^a-zA-Z0-9-]", "-", name) or "r"
        unique, counter = name, 1
        while unique in self.rules:
            counter += 1
            unique = f"{name}-{counter}"
        self.rules[unique] = body
        return unique

    def value(self, node: dict[str, Any], name: str) -> str:
        if "$ref" in node:
            target = node["$ref"].rsplit("/", 1)[-1]
            if target not in self.rules:
                self.rules[target] = ""  # reserve the name (and guard recursion)
                self.rules[target] = self.value(self.definitions[target], target)
            return target
        if "anyOf" in node:
            return " | ".join(f"({self.value(option, f'{name}-{i}')})" for i, option in enumerate(node["anyOf"]))
        if "enum" in node or "const" in node:
            values = node.get("enum", [node.get("const")])
            return " | ".join(_literal(json.dumps(value, ensure_ascii=False)) for value in values)
        kind = node.get("type")
        if kind == "object":
            return self.object(node, name)
        if kind == "array":
            return self.array(node, name)
        if kind == "string":
            return self.string(node, name)
        if kind == "number" and "minimum" in node and "maximum" in node:
            return self.rule("number", _NUMBER)
        if kind == "null":
            return '"null"'
        raise ValueError(f"no bounded GBNF for schema node {node} (at {name})")

    def object(self, node: dict[str, Any], name: str) -> str:
        properties = node.get("properties", {})
        if set(node.get("required", [])) != set(properties):
            raise ValueError(f"{name}: every property must be required (one fixed key order)")
        parts = []
        for index, (key, value) in enumerate(properties.items()):
            prefix = ("{" if index == 0 else ", ") + json.dumps(key) + ": "
            parts.append(f"{_literal(prefix)} {self.rule(f'{name}-{key}', self.value(value, f'{name}-{key}'))}")
        return " ".join(parts) + ' "}"' if parts else '"{}"'

    def array(self, node: dict[str, Any], name: str) -> str:
        if "maxItems" not in node:
            raise ValueError(f"{name}: arrays need maxItems")
        low, high = node.get("minItems", 0), node["maxItems"]
        item = self.rule(f"{name}-item", self.value(node["items"], f"{name}-item"))
        if high == 0:
            return '"[]"'
        more = f'(", " {item}){{{max(low - 1, 0)},{high - 1}}}'
        listed = f"{item} {more}"
        return f'"[" {listed} "]"' if low > 0 else f'"[" ({listed})? "]"'

    def string(self, node: dict[str, Any], name: str) -> str:
        pattern = node.get("pattern")
        if pattern is None:
            raise ValueError(f"{name}: strings need a bounding pattern")
        return f'"\\"" {self.regex(pattern, name)} "\\""'

    def regex(self, pattern: str, name: str) -> str:
        """A small regex subset to GBNF: ^...$ anchored literals, [classes], (groups), ? and {m,n}."""
        if not (pattern.startswith("^") and pattern.endswith("$")):
            raise ValueError(f"{name}: patterns must be anchored with ^...$")
        body, position = self._sequence(pattern, 1, name)
        if position != len(pattern) - 1:
            raise ValueError(f"{name}: unsupported pattern {pattern!r}")
        return body

    def _sequence(self, pattern: str, position: int, name: str) -> tuple[str, int]:
        items: list[str] = []
        end = len(pattern) - 1  # the closing "$"
        while position < end and pattern[position] != ")":
            char = pattern[position]
            if char == "[":
                close = _class_end(pattern, position)
                atom = self.rule(f"{name}-c", pattern[position:close + 1])
                position = close + 1
            elif char == "(":
                inner, position = self._sequence(pattern, position + 1, name)
                if pattern[position:position + 1] != ")":
                    raise ValueError(f"{name}: unbalanced group in {pattern!r}")
                atom = self.rule(f"{name}-g", inner)
                position += 1
            elif char in "|*+.":
                raise ValueError(f"{name}: unsupported regex syntax {char!r} in {pattern!r}")
            else:
                if char == "\\":
                    position += 1
                    char = pattern[position]
                atom = _literal(char)
                position += 1
            quantifier = _QUANTIFIER.match(pattern, position)
            if quantifier:
                if quantifier.group(0) == "?":
                    atom += "?"
                else:
                    low, high = quantifier.group(1), quantifier.group(2)
                    if high == "":
                        raise ValueError(f"{name}: unbounded repetition in {pattern!r}")
                    atom += f"{{{low},{high if high is not None else low}}}"
                position = quantifier.end()
            items.append(atom)
        return " ".join(items) or '""', position


def _class_end(pattern: str, start: int) -> int:
    position = start + 1
    if pattern[position:position + 1] == "^":
        position += 1
    while position < len(pattern):
        if pattern[position] == "\\":
            position += 2
            continue
        if pattern[position] == "]":
            return position
        position += 1
    raise ValueError(f"unterminated character class in {pattern!r}")


def _literal(text: str) -> str:
    """A GBNF string literal for `text`."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
