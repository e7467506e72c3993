#!/usr/bin/env python3
"""Writes tests/fixtures/cache_keys.json: FAQ answer cache keys exactly as the platform's
Python services compute them, so opsdeck's Rust implementation can be checked byte for byte.

Run once from the repository root: python3 scripts/gen_cache_key_vectors.py
"""
import hashlib
import json
import pathlib

CASES = [
    ("How do I reset my password?", None, "v1"),
    ("How do I reset my password?", "", "v1"),
    ("How do I reset my password?", "account settings", "v1"),
    ("如何修改密码？", None, "v1"),
    ("如何修改密码？", "用户中心", "v2"),
    ("Where is my order 📦?", None, "v1"),
    ("emoji only 😀🎉👍🏽", "ctx 🚀", "v3"),
    ("quotes \" and backslash \\ and slash /", None, "v1"),
    ("tab\tnewline\ncr\rbs\bff\f", "nul\x00 bell\x07 esc\x1b del\x7f", "v1"),
    ("Ünïcödé café – “smart quotes” …", "naïve résumé", "kb-2024-06"),
    ("\u2028 line sep \u2029 para sep \ufeff bom", None, "v1"),
    ("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math 𝟙", "日本語とEnglish", "v1"),
    ("", None, ""),
    ("   leading and trailing spaces   ", "  ", "v1"),
]


def cache_key(question, context, kb_version):
    obj = {"question": question, "context": context or "", "kb_version": kb_version}
    payload = json.dumps(obj, sort_keys=True)
    return payload, "answer:" + hashlib.md5(payload.encode("utf-8")).hexdigest()


def main():
    out = []
    for question, context, kb_version in CASES:
        payload, key = cache_key(question, context, kb_version)
        out.append(
            {
                "question": question,
                "context": context,
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
