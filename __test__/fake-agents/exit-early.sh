#!/bin/sh
# A CLI that dies before saying anything on stdout (e.g. a bad install or config).
echo "warming up" >&2
echo "fatal: the agent could not start (scripted failure)" >&2
exit 3
