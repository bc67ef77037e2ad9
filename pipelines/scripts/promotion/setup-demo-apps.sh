#!/usr/bin/env bash
# Kept for older instructions: the demo apps are created by scripts/promotion-demo-setup.sh.
exec "$(dirname "$0")/../promotion-demo-setup.sh" "$@"
