#!/usr/bin/env bash
# The compile benchmark (issue 20): a 100-tool server on mcp-runtime beside
# the same on rmcp; see bench/compile.py for what is measured and the settings.
set -euo pipefail
exec python3 "$(dirname "$0")/compile.py" "$@"
