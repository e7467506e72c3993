#!/usr/bin/env python3
"""Writes the bench inputs: N warmup lines (JSONL) and the same SET commands as Redis
protocol for `redis-cli --pipe`, keyed as the platform's services key them.

usage: bench-gen.py N OUT_DIR
"""
import hashlib
import json
import sys


def resp(*args):
    parts = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a.encode() if isinstance(a, str) else a
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    with open(f"{out}/warmup.jsonl", "w", encoding="utf-8") as jl, open(f"{out}/warmup.resp", "wb") as rp:
        for i in range(n):
            q = f"How do I do thing number {i}? 如何 {i}"
            a = f"Answer {i}: open settings, then choose option {i % 97}."
            jl.write(json.dumps({"question": q, "answer": a}, ensure_ascii=False) + "\n")
            payload = json.dumps({"question": q, "context": "", "kb_version": "v1"}, sort_keys=True)
            key = "answer:" + hashlib.md5(payload.encode()).hexdigest()
            rp.write(resp("SET", key, json.dumps(a), "EX", "86400"))


if __name__ == "__main__":
    main()
