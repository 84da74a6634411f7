#!/usr/bin/env bash
# bench/hostcost.sh — what tend costs each host, counted rather than timed: the programs exec'd
# and the SSH sessions opened on one lab host while tend runs the CLOSE_WAIT runbook as an Ansible
# user writes it (bench/ansible/closewait-runbook.yml, the one bench/closewait.sh times) in check
# mode, then applied twice, listed per remote command (the step: facts, the sysctl check, the
# live write, the atomic write of sysctl.conf, sysctl -p, the pending-handler marker, the
# handler, the shell count, the recheck) with the programs' names.
#
#   bench/hostcost.sh [-o FILE]
#
#   -o FILE   also write the table to FILE (default bench/out/hostcost-<date>.txt)
#
# It runs the regression guard TestHostCostCloseWait (cmd/tend/hostcost_integration_test.go) under
# nice: a one-host lab (internal/lab, /etc overlay) whose sshd is traced with strace -ff while
# tend runs (internal/lab/exectrace.go groups every execve under sshd by the session or the
# long-lived shell's command that started it). The host's /etc/sysctl.conf starts as
# bench/closewait.sh's (three of the nine keys, two with other values) and its
# /etc/init.d/activemq is a one-line script: the real restart's own programs (bench/closewait.sh's
# stand-in MQ restart execs 6 more) come on top in the benchmark. The test fails when a run exceeds
# the limits it holds (hostcost_integration_test.go: hostCostLimits).
#
# Needs root (network namespaces), Go, strace, openssh-server, iproute2. Counts do not depend on
# the machine's load, so this may run while other work does.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTFILE=
usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	-o) OUTFILE=${2:?-o needs a file}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "hostcost.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "hostcost.sh: needs root (network namespaces)" >&2; exit 2; }
command -v strace >/dev/null || { echo "hostcost.sh: strace missing (apt-get install -y strace)" >&2; exit 2; }
if [ -z "$OUTFILE" ]; then
	mkdir -p "$ROOT/bench/out"
	OUTFILE=$ROOT/bench/out/hostcost-$(date +%Y-%m-%d-%H%M%S).txt
fi
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
rc=0
(cd "$ROOT" && TEND_HOSTCOST_REPORT=$OUTFILE nice -n 19 go test ./cmd/tend -run '^TestHostCostCloseWait$' -count=1 -v) >"$LOG" 2>&1 || rc=$?
{
	echo "# bench/hostcost.sh $(date -u +%FT%TZ), tend at $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD || echo ' + uncommitted changes')"
	echo "# programs exec'd (count, session or the connection's shell, step, names) on one host"
	cat "$OUTFILE" 2>/dev/null
} >"$OUTFILE.tmp" && mv "$OUTFILE.tmp" "$OUTFILE"
cat "$OUTFILE"
if [ "$rc" != 0 ]; then
	grep -E '^\s*(--- FAIL|hostcost_integration_test.go:[0-9]+: [a-z0-9]+: [0-9]+ programs)' "$LOG" >&2 || tail -n 40 "$LOG" >&2
	echo "hostcost.sh: the test failed (exit $rc)" >&2
fi
echo "table: $OUTFILE" >&2
exit "$rc"
