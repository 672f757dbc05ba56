#!/usr/bin/env python3
"""Sums a flat perf profile of the load benchmark (bench/load.sh) by concern.

    perf report -i perf.data --no-children --stdio -g none --sort dso,sym \\
        --percent-limit 0 | bench/perf_summary.py

Reads `OVERHEAD DSO SYMBOL` lines and prints a Markdown table of the share
of server CPU time spent in the kernel (network stack), signature
verification, hashing, JSON, base64, actix/HTTP, the async runtime,
allocation, memory copies, the runtime's own code and the rest. The first
matching rule wins, so the order below matters: e.g. SHA-256 is hashing
whether the JWS input or the token cache digest asked for it.
"""

import re
import sys

RULES = [
    ("kernel (TCP loopback, syscalls, scheduler)", lambda dso, sym: dso.startswith("[kernel")),
    ("hashing (SHA-256: JWS input, token cache digest; map hashes)",
     lambda dso, sym: re.search(r"sha256|sha2|siphash|ahash|fxhash|hash::|hasher|DigestHasher", sym, re.I)),
    ("signature verification (aws-lc RSA/ECDSA, jsonwebtoken)",
     lambda dso, sym: re.search(r"aws_lc|jsonwebtoken|\bbn_|ecdsa|ec_GFp|p256|fiat_|bignum|EVP_|RSA_|BN_", sym)),
    ("base64", lambda dso, sym: "base64" in sym),
    ("JSON (serde_json, serde)", lambda dso, sym: re.search(r"serde|ryu|itoa", sym)),
    ("allocation (malloc/free)",
     lambda dso, sym: re.search(r"malloc|free|_int_|realloc|__rdl_|__rust_alloc|__rust_dealloc|alloc::raw_vec|cfree|consolidate|calloc", sym)),
    ("memory copies/compares (memcpy, memcmp, memset)",
     lambda dso, sym: re.search(r"mem(move|cpy|cmp|set|chr)|__memcmp|bcmp", sym)),
    ("mcp-runtime (own code)", lambda dso, sym: "mcp_runtime" in sym),
    ("actix-web / actix-http / httparse / bytes",
     lambda dso, sym: re.search(r"actix|httparse|http::|h1::|bytes::|HeaderMap|HeaderName", sym)),
    ("async runtime (tokio, futures)", lambda dso, sym: re.search(r"tokio|futures|mio::|waker|LocalKey", sym)),
    ("dashmap / arc-swap", lambda dso, sym: re.search(r"dashmap|arc_swap", sym)),
]

LINE = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)$")


def main() -> int:
    totals: dict[str, float] = {}
    tops: dict[str, list[tuple[float, str]]] = {}
    for line in sys.stdin:
        match = LINE.match(line)
        if not match:
            continue
        share, dso, sym = float(match.group(1)), match.group(2), match.group(3).strip()
        bucket = next((name for name, rule in RULES if rule(dso, sym)), "other")
        totals[bucket] = totals.get(bucket, 0.0) + share
        tops.setdefault(bucket, []).append((share, sym))
    print("| concern | share of server CPU | top symbols |")
    print("| --- | ---: | --- |")
    for name, share in sorted(totals.items(), key=lambda kv: -kv[1]):
        top = sorted(tops[name], reverse=True)[:3]
        shown = "; ".join(f"`{sym[:70]}` {s:.1f}%" for s, sym in top)
        print(f"| {name} | {share:.1f}% | {shown} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
