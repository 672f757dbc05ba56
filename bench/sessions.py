#!/usr/bin/env python3
"""Opens idle MCP sessions for the load benchmark (bench/load.sh).

    sessions.py HOST PORT TOKEN_FILE COUNT EXTRA

Sends COUNT `initialize` requests over one keep-alive connection, each
opening a session that is then left idle, and then EXTRA more, which a
server capped at COUNT sessions must refuse with 503 and a JSON-RPC error.
Prints `SESSIONS key value` lines: how many opened, how many were refused,
the first refusal's status and body, and one opened session id (to show the
server still serves it). Exits non-zero if a refusal is not a clean 503.
"""

import http.client
import json
import sys


def main() -> int:
    host, port, token_file, count, extra = sys.argv[1:6]
    count, extra = int(count), int(extra)
    with open(token_file, encoding="ascii") as f:
        token = f.read().strip()
    body = json.dumps({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "bench-idle", "version": "1"},
        },
    })
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    opened, refused, unexpected = 0, 0, 0
    first_session, first_refusal = "", ""
    for _ in range(count + extra):
        conn.request("POST", "/mcp", body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        session = response.getheader("mcp-session-id")
        if response.status == 200 and session:
            opened += 1
            first_session = first_session or session
            continue
        clean = False
        if response.status == 503:
            try:
                clean = "error" in json.loads(text)
            except ValueError:
                clean = False
        refused += 1
        unexpected += 0 if clean else 1
        if not first_refusal:
            first_refusal = f"{response.status} {text}"
    print(f"SESSIONS opened {opened}")
    print(f"SESSIONS refused {refused}")
    print(f"SESSIONS unexpected {unexpected}")
    print(f"SESSIONS first_session {first_session}")
    print(f"SESSIONS first_refusal {first_refusal}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
