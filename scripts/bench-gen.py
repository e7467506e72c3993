#!/usr/bin/env python3
"""Writes the bench inputs into OUT_DIR:

- warmup.jsonl / warmup.resp: W warmup lines, every other one with an object context as the
  services pass it, and the same SETs as Redis protocol for `redis-cli --pipe`, keyed as the
  platform's services key them;
- keyspace.resp: T invalidation targets (half `answer:`, half `knowledge:`) among T other
  keys (`session:`, `user:`), for a group of two patterns to delete.

usage: bench-gen.py OUT_DIR W T
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


def warmup(out, n):
    with open(f"{out}/warmup.jsonl", "w", encoding="utf-8") as jl, open(
        f"{out}/warmup.resp", "wb"
    ) as rp:
        for i in range(n):
            q = f"How do I do thing number {i}? 如何 {i}"
            a = f"Answer {i}: open settings, then choose option {i % 97}."
            line = {"question": q, "answer": a}
            context = None
            if i % 2:
                context = {"channel": "web", "tier": ["free", "gold"][i % 4 // 2], "tags": ["faq"]}
                line["context"] = context
            jl.write(json.dumps(line, ensure_ascii=False) + "\n")
            obj = {"question": q, "context": context or "", "kb_version": "v1"}
            payload = json.dumps(obj, sort_keys=True)
            key = "answer:" + hashlib.md5(payload.encode()).hexdigest()
            rp.write(resp("SET", key, json.dumps(a), "EX", "86400"))


def keyspace(out, n):
    with open(f"{out}/keyspace.resp", "wb") as rp:
        for i in range(n):
            h = hashlib.md5(str(i).encode()).hexdigest()
            target = f"answer:{h}" if i % 2 else f"knowledge:{i // 2}:chunk"
            other = f"session:{h}" if i % 2 else f"user:{i // 2}:profile"
            rp.write(resp("SET", target, "x" * 64))
            rp.write(resp("SET", other, "y" * 64))


def main():
    out, w, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    warmup(out, w)
    keyspace(out, t)


if __name__ == "__main__":
    main()
