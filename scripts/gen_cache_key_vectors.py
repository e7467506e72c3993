#!/usr/bin/env python3
"""Writes tests/fixtures/cache_keys.json: FAQ answer cache keys exactly as the platform's
Python services compute them, so opsdeck's Rust implementation can be checked byte for byte.

Each vector's context is the JSON text a warmup line carries (`context_json`, or null when
the line has no context). Python loads it and keys the loaded value, as a service keys the
context it holds: `json.dumps({"question", "context": context or "", "kb_version"},
sort_keys=True)`.

Run once from the repository root: python3 scripts/gen_cache_key_vectors.py
"""
import hashlib
import json
import pathlib
import random
import struct

# (question, context as JSON text or None for no context, kb_version, what it covers)
CASES = [
    ("How do I reset my password?", None, "v1", "no context"),
    ("How do I reset my password?", '""', "v1", "empty string context"),
    ("How do I reset my password?", '"account settings"', "v1", "string context"),
    ("如何修改密码？", None, "v1", "CJK question"),
    ("如何修改密码？", '"用户中心"', "v2", "CJK string context"),
    ("Where is my order 📦?", None, "v1", "astral character in the question"),
    ("emoji only 😀🎉👍🏽", '"ctx 🚀"', "v3", "astral characters in both"),
    ("quotes \" and backslash \\ and slash /", None, "v1", "characters JSON escapes"),
    ("tab\tnewline\ncr\rbs\bff\f", '"nul\\u0000 bell\\u0007 esc\\u001b del\\u007f"', "v1",
     "control characters"),
    ("Ünïcödé café – “smart quotes” …", '"naïve résumé"', "kb-2024-06", "Latin-1 and punctuation"),
    ("\u2028 line sep \u2029 para sep \ufeff bom", None, "v1", "separators and BOM"),
    ("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math 𝟙", '"日本語とEnglish"', "v1", "mathematical alphanumerics"),
    ("", None, "", "everything empty"),
    ("   leading and trailing spaces   ", '"  "', "v1", "whitespace context is truthy"),
    # Every value Python finds false is keyed as "".
    ("falsy", "null", "v1", "null"),
    ("falsy", "false", "v1", "false"),
    ("falsy", "0", "v1", "integer zero"),
    ("falsy", "-0", "v1", "negative integer zero"),
    ("falsy", "0.0", "v1", "float zero"),
    ("falsy", "-0.0", "v1", "negative float zero"),
    ("falsy", "0e10", "v1", "float zero in exponent form"),
    ("falsy", '""', "v1", "empty string"),
    ("falsy", "[]", "v1", "empty array"),
    ("falsy", "{ }", "v1", "empty object with a space"),
    # Truthy scalars.
    ("scalar", "true", "v1", "true"),
    ("scalar", "1", "v1", "one"),
    ("scalar", "-7", "v1", "negative integer"),
    ("scalar", "1.0", "v1", "integral float keeps .0"),
    ("scalar", "1e16", "v1", "float at the exponent threshold: 1e+16"),
    ("scalar", "1E15", "v1", "float just below it: fixed"),
    ("scalar", "1e-7", "v1", "small float: 1e-07"),
    ("scalar", "0.0001", "v1", "smallest fixed-notation float"),
    ("scalar", "0.00001", "v1", "first exponent-notation small float"),
    ("scalar", "0.30000000000000004", "v1", "shortest round trip"),
    ("scalar", "0.1e1", "v1", "float written oddly"),
    ("scalar", "123456789012345678901234567890", "v1", "integer beyond 64 bits"),
    ("scalar", "-98765432109876543210987654321098765432109876543210", "v1", "big negative integer"),
    ("scalar", "1.7976931348623157e308", "v1", "largest double"),
    ("scalar", "5e-324", "v1", "smallest subnormal"),
    ("scalar", "1e400", "v1", "overflow loads as inf, dumps as Infinity"),
    ("scalar", "-1e400", "v1", "-Infinity"),
    ("scalar", "12345678901234567890.0", "v1", "big integral float"),
    ("scalar", '"\\ud83d\\ude00 \\u00e9 \\/"', "v1", "escapes in the context text"),
    ("scalar", '"\\ud800 lone \\udc00"', "v1", "lone surrogates load and dump as themselves"),
    # Objects and arrays, as the services pass them.
    ("What is my plan?", '{"channel": "web", "tier": "gold", "tags": ["new", "vip"]}', "v1",
     "object context: channel, tier, tags"),
    ("What is my plan?", '{"tier":"gold","tags":["new","vip"],"channel":"web"}', "v1",
     "same object, other order, compact: same key"),
    ("nested", '{"z": {"b": 1, "a": [{"d": null, "c": true}, []]}, "a": {}, "m": [[], {}, [0]]}',
     "v1", "nested objects and arrays, sorted at every level"),
    ("falsy members", '{"a": null, "b": false, "c": 0, "d": "", "e": [], "f": {}}', "v1",
     "falsy members inside a truthy object"),
    ("falsy items", '[0, 0.0, -0.0, false, null, "", [], {}]', "v1", "falsy items in an array"),
    ("unicode keys", '{"\\uff61": 1, "\\ud83d\\ude00": 2, "\\ue000": 3, "\\u00e9": 4, "e": 5, "E": 6, "": 7}',
     "v1", "keys that sort differently as UTF-16 than as code points"),
    ("unicode keys raw", '{"｡": 1, "😀": 2, "\ue000": 3, "é": 4}', "v1",
     "the same keys written unescaped"),
    ("number-like keys", '{"10": 1, "9": 2, "1e3": 3, "-1": 4}', "v1", "keys sort as strings"),
    ("duplicate keys", '{"a": 1, "b": 2, "a": 3}', "v1", "a key given twice keeps its last value"),
    ("control keys", '{"\\u0001": "\\u001f", "\\t": "\\n", "\\u007f": "\\b\\f"}', "v1",
     "control characters in keys and values"),
    ("whitespace", '{ "b" : [ 1 , 2 ] ,\t"a" : { } }', "v1", "whitespace in the context text"),
    ("deep", "[[[[[[[[[[{\"k\": [1.5]}]]]]]]]]]]", "v1", "deep nesting"),
    ("mixed numbers", '{"i": 100, "f": 1e2, "g": 2.50, "n": -0, "m": -0.0, "big": 18446744073709551616}',
     "v1", "integers and floats side by side"),
]


def random_floats(rng, n):
    """Doubles from random bit patterns and random decimal forms, written as %.17g (not the
    shortest form), so the Rust side must find Python's shortest repr itself."""
    out = []
    while len(out) < n:
        (f,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if f != f or f in (float("inf"), float("-inf")):
            continue
        out.append("%.17g" % f)
        out.append("%.*e" % (rng.randint(0, 16), rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-30, 30)))
    return "[" + ", ".join(out[:n]) + "]"


def cache_key(question, context, kb_version):
    obj = {"question": question, "context": context or "", "kb_version": kb_version}
    payload = json.dumps(obj, sort_keys=True)
    return payload, "answer:" + hashlib.md5(payload.encode("utf-8")).hexdigest()


def main():
    rng = random.Random(11)
    cases = list(CASES)
    for i in range(4):
        cases.append((f"floats {i}", random_floats(rng, 150), "v1", "random doubles as %.17g / %e"))
    out = []
    for question, context_json, kb_version, note in cases:
        context = None if context_json is None else json.loads(context_json)
        payload, key = cache_key(question, context, kb_version)
        out.append(
            {
                "note": note,
                "question": question,
                "context_json": context_json,
                "kb_version": kb_version,
                "json": payload,
                "key": key,
            }
        )
    path = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/cache_keys.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(out)} vectors to {path}")


if __name__ == "__main__":
    main()
