#!/bin/sh
# A CLI whose stdout is one 30 MB line (not JSON), for the line-budget test: it writes 30 MB
# without the newline, touches $OCS_WRITTEN_DIR/<its pid> once the bytes are in the pipe (the
# reader has taken all but the last 64 KiB), then ends the line when $OCS_GO exists, and exits.
head -c 30000000 /dev/zero | tr '\0' x
touch "$OCS_WRITTEN_DIR/$$"
while [ ! -e "$OCS_GO" ]; do sleep 0.05; done
echo
