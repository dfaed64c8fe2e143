"""Reads the value a browserify-bundled JavaScript module exports, without running any JavaScript.

nsfwjs ships its TensorFlow.js model as such bundles: model.min.js exports an object literal
({modelTopology: ..., weightsManifest: ...}, minified: unquoted keys, !0 / !1 for true / false,
numbers such as .5 or -1e-3) and each group1-shardKofN.min.js exports one base64 string. This
module parses that subset of JavaScript literal syntax; anything else is a BundleError naming the
file and the offset.
"""
import json
import re


class BundleError(Exception):
    pass


# The bundle's module 1 assigns its value: `{1:[function(a,n,i){n.exports=VALUE},{}]}`.
_MODULE_ONE = re.compile(r"\{1:\[function\((\w+),(\w+),(\w+)\)\{\2\.exports=")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', re.S)
_KEYWORDS = {"!0": True, "!1": False, "true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, text, origin):
        self.s, self.i, self.origin = text, 0, origin

    def fail(self, what):
        snippet = self.s[self.i:self.i + 40]
        raise BundleError(f"{self.origin}: {what} at offset {self.i} (near {snippet!r})")

    def skip_space(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def peek(self):
        self.skip_space()
        return self.s[self.i] if self.i < len(self.s) else ""

    def expect(self, ch):
        if self.peek() != ch:
            self.fail(f"expected {ch!r}")
        self.i += 1

    def value(self):
        ch = self.peek()
        if ch == "{":
            return self.obj()
        if ch == "[":
            return self.array()
        if ch in "\"'":
            return self.string()
        for word, val in _KEYWORDS.items():
            if self.s.startswith(word, self.i):
                self.i += len(word)
                return val
        m = _NUMBER.match(self.s, self.i)
        if m:
            self.i = m.end()
            text = m.group(0)
            return float(text) if any(c in text for c in ".eE") else int(text)
        self.fail("expected a value")

    def string(self):
        m = _STRING.match(self.s, self.i)
        if not m:
            self.fail("unterminated string")
        self.i = m.end()
        body = m.group(0)[1:-1]
        if m.group(0)[0] == "'":
            body = body.replace("\\'", "'").replace('"', '\\"')
        try:
            return json.loads('"' + body + '"')
        except json.JSONDecodeError as e:
            self.fail(f"bad string escape ({e.msg})")

    def key(self):
        ch = self.peek()
        if ch in "\"'":
            return self.string()
        m = _IDENT.match(self.s, self.i) or re.compile(r"\d+").match(self.s, self.i)
        if not m:
            self.fail("expected a key")
        self.i = m.end()
        return m.group(0)

    def obj(self):
        self.expect("{")
        out = {}
        if self.peek() == "}":
            self.i += 1
            return out
        while True:
            k = self.key()
            self.expect(":")
            out[k] = self.value()
            ch = self.peek()
            self.i += 1
            if ch == "}":
                return out
            if ch != ",":
                self.i -= 1
                self.fail("expected ',' or '}'")

    def array(self):
        self.expect("[")
        out = []
        if self.peek() == "]":
            self.i += 1
            return out
        while True:
            out.append(self.value())
            ch = self.peek()
            self.i += 1
            if ch == "]":
                return out
            if ch != ",":
                self.i -= 1
                self.fail("expected ',' or ']'")


def parse_literal(text, origin="<text>"):
    """One JavaScript literal value (the whole text)."""
    p = _Parser(text, origin)
    v = p.value()
    if p.peek():
        p.fail("trailing text after the value")
    return v


def module_value(text, origin):
    """The value the bundle's module 1 exports."""
    m = _MODULE_ONE.search(text)
    if not m:
        raise BundleError(f"{origin}: not a browserify bundle exporting a value from module 1")
    p = _Parser(text, origin)
    p.i = m.end()
    v = p.value()
    if p.peek() != "}":
        p.fail("expected the end of module 1 after its value")
    return v
