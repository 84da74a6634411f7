#!/usr/bin/env bash
# bench/closewait.sh — the CLOSE_WAIT runbook as an Ansible user writes it
# (bench/ansible/closewait-runbook.yml: ansible.posix.sysctl over a map with reload, notify +
# meta: flush_handlers, a shell count, debug; facts gathered) run UNCHANGED by ansible-playbook
# and by `tend run` on the same lab hosts: check, apply, second apply. It checks that both tools
# leave the same end state and print the same recaps and counts, and reports the wall-time ratios.
#
#   bench/closewait.sh [-n 20,50] [-r 1] [--quiet-wait S]
#
#   -n LIST         host counts, comma separated (default 20,50); one lab per count
#   -r R            repetitions of each timed run (default 1; medians are reported)
#   --quiet-wait S  before each timed run wait up to S seconds (default 30) until the rest of
#                   the machine uses < 0.25 core; the load seen is recorded (bg, load1 columns)
#   TEND_SRC=DIR    environment: build tend from DIR instead of this checkout
#
# Needs root, Go, openssh, iproute2, jq, GNU time, and Debian's `ansible` package (ansible-core
# lacks the ansible.posix collection): installed on demand with apt-get.
#
# The lab comes from `bench/run.sh --hold N` (build, N hosts with an overlay on /etc, a stand-in
# MQ with 60 CLOSE_WAIT sockets on each, inventory, reset scripts); this script then gives each
# host an /etc/init.d/activemq that restarts its stand-in (the playbook's handler runs
# `/etc/init.d/activemq restart`) and an initial /etc/sysctl.conf with three of the nine keys
# ("k=v", two of them with other values). Every check and first apply starts from that
# state, freshly reset (file, live values, new stand-in, 60 CLOSE_WAIT); the second apply follows
# the first. Timed: the whole client process tree (/usr/bin/time: wall, user+sys, peak RSS).
#
# Compared after every run, per host, between the two tools (fails the script on a difference):
# /etc/sysctl.conf byte for byte (tend's "# added by tend" line above the keys it appends left
# out: Ansible writes none), the nine live values read in the host's network namespace, whether
# the MQ stand-in was restarted (new PID) and listens, the recap (ok/changed/unreachable/failed/
# skipped; tend's would_change counts as changed) and the count the debug task prints.
#
# Output: table and ratios on stdout; everything in bench/out/closewait-<date>/ (results.txt,
# rows.tsv, each run's output and end state).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
PB=$BENCH/ansible/closewait-runbook.yml
NS_LIST=20,50
REPS=1
QUIET_WAIT=30
QUIET_CORES=0.25
KEYS="net.ipv4.tcp_keepalive_time net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes net.ipv4.tcp_fin_timeout net.ipv4.tcp_syn_retries net.ipv4.tcp_orphan_retries net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_syncookies net.ipv4.tcp_tw_reuse"
INITIAL_CONF='# /etc/sysctl.conf of a tend lab host
# TCP settings from an older runbook
net.ipv4.tcp_fin_timeout=60
net.ipv4.tcp_keepalive_time=7200
net.ipv4.tcp_syncookies=1
'

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	-n) NS_LIST=${2:?-n needs a list}; shift 2 ;;
	-r) REPS=${2:?-r needs a count}; shift 2 ;;
	--quiet-wait) QUIET_WAIT=${2:?--quiet-wait needs seconds}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "closewait.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "closewait.sh: needs root (network namespaces)" >&2; exit 2; }
for t in jq /usr/bin/time ssh; do
	command -v "$t" >/dev/null || { echo "closewait.sh: $t missing (apt-get install -y time jq openssh-client)" >&2; exit 2; }
done
if ! ansible-doc -t module ansible.posix.sysctl >/dev/null 2>&1; then
	echo "closewait.sh: installing Debian's ansible (for the ansible.posix collection)" >&2
	timeout 900 apt-get install -y --no-install-recommends ansible >&2
fi

OUT=$BENCH/out/closewait-$(date +%Y-%m-%d-%H%M%S)-$$
mkdir -p "$OUT"
RESULTS=$OUT/results.txt ROWS=$OUT/rows.tsv
: >"$ROWS"
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$RESULTS" >&2; }
{
	echo "# bench/closewait.sh $(date -u +%FT%TZ): $(nproc) cores, kernel $(uname -r)"
	echo "# tend tree ${TEND_SRC:-$ROOT} at $(cd "${TEND_SRC:-$ROOT}" && git rev-parse --short HEAD 2>/dev/null)$(cd "${TEND_SRC:-$ROOT}" && git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
	echo "# $(ansible-playbook --version | sed -n 1p), ansible.posix $(ansible-galaxy collection list ansible.posix 2>/dev/null | awk '$1 == "ansible.posix" {print $2}')"
	echo "# $(ssh -V 2>&1)"
} >>"$RESULTS"

HOLD_PID= LAB= BIN=
teardown() {
	if [ -n "$HOLD_PID" ] && kill -0 "$HOLD_PID" 2>/dev/null; then
		log "tearing the lab down (SIGTERM to bench/run.sh --hold, $HOLD_PID)"
		kill -TERM "$HOLD_PID" 2>/dev/null || true
		for ((i = 0; i < 600; i++)); do kill -0 "$HOLD_PID" 2>/dev/null || break; sleep 0.5; done
	fi
	HOLD_PID=
}
trap teardown EXIT
trap 'exit 130' INT TERM

SSH_OPTS=()
ssh_host() { timeout 120 ssh "${SSH_OPTS[@]}" "root@$1" "$2"; }

# lab_up N: bench/run.sh --hold N in the background, until its lab is ready
lab_up() {
	local n=$1 holdlog=$OUT/hold-$1.log i line
	log "N=$n: bench/run.sh --hold $n"
	set -m
	"$BENCH/run.sh" --hold "$n" --quiet-wait 0 >"$holdlog" 2>&1 &
	HOLD_PID=$!
	set +m
	for ((i = 0; i < 1800; i++)); do
		line=$(grep -m1 'holding: inventory' "$holdlog" || true)
		[ -n "$line" ] && break
		kill -0 "$HOLD_PID" 2>/dev/null || { cat "$holdlog" >&2; echo "closewait.sh: run.sh --hold failed" >&2; return 1; }
		sleep 0.5
	done
	[ -n "$line" ] || { echo "closewait.sh: lab not up after 900 s" >&2; return 1; }
	LAB=$(sed -E 's/.*holding: inventory (.*)\/hosts\.yml .*/\1/' <<<"$line")
	BIN=$(dirname "$LAB")/bin
	HOSTS=() ADDRS=()
	while read -r name addr; do HOSTS+=("$name"); ADDRS+=("$addr"); done < <(
		awk '/^    [^ ].*:$/ {h=$1; sub(":$","",h)} /ansible_host:/ {print h, $2}' "$LAB/hosts.yml")
	[ "${#HOSTS[@]}" = "$n" ] || { echo "closewait.sh: inventory has ${#HOSTS[@]} hosts, want $n" >&2; return 1; }
	# run.sh's inventory gives each host its own tend_state_dir (pending-handler markers,
	# budget records): the lab hosts share this machine's /var/lib, tend's default
	grep -q 'tend_state_dir:' "$LAB/hosts.yml" || { echo "closewait.sh: the lab inventory gives no per-host tend_state_dir" >&2; return 1; }
	SSH_OPTS=(-F /dev/null -i "$LAB/client_ed25519" -o IdentitiesOnly=yes
		-o "UserKnownHostsFile=$LAB/known_hosts" -o StrictHostKeyChecking=yes
		-o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR -o ControlMaster=no)
	log "N=$n: lab $LAB up"
}

# each_host FUNC: FUNC INDEX for every host, in parallel (untimed helpers)
each_host() {
	local f=$1 i rc=0 pids=()
	for ((i = 0; i < ${#HOSTS[@]}; i++)); do "$f" "$i" & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}

# setup_host I: the host's init script (only inside the host's own /etc overlay) and initial file
setup_host() {
	local h=${HOSTS[$1]} a=${ADDRS[$1]}
	printf '%s' "$INITIAL_CONF" >"$LAB/mq/$h.saved.conf"
	ssh_host "$a" "[ \"\$(findmnt -n -o FSTYPE --target /etc)\" = overlay ] || { echo '/etc is not the lab overlay' >&2; exit 1; }
		mkdir -p /etc/init.d && printf '%s\n' '#!/bin/sh' 'case \$1 in restart) exec $LAB/restart-mq.sh $LAB/mq/$h.pid $BIN/tend-standin-mq ;; *) echo \"usage: \$0 restart\" >&2; exit 3 ;; esac' >/etc/init.d/activemq &&
		chmod 755 /etc/init.d/activemq" || { echo "$h: setup failed" >&2; return 1; }
}

reset_host() {
	local h=${HOSTS[$1]}
	ssh_host "${ADDRS[$1]}" "$LAB/reset-host.sh $LAB/mq/$h.saved $BIN/tend-standin-mq 60 $LAB/restart-mq.sh $LAB/mq/$h.pid" ||
		{ echo "$h: reset failed" >&2; return 1; }
}

# snap_pids DIR: each host's stand-in PID before a run
snap_pids() { local i; mkdir -p "$1"; for ((i = 0; i < ${#HOSTS[@]}; i++)); do cat "$LAB/mq/${HOSTS[$i]}.pid" >"$1/${HOSTS[$i]}.pid0"; done; }

# state_host I (STATE_DIR): sysctl.conf, live values, restarted, listening
state_host() {
	local h=${HOSTS[$1]} d=$STATE_DIR
	ssh_host "${ADDRS[$1]}" "cat /etc/sysctl.conf" >"$d/$h.conf"
	ssh_host "${ADDRS[$1]}" "for k in $KEYS; do echo \$k=\$(cat /proc/sys/\$(echo \$k | tr . /)); done
		i=0; while [ \$i -lt 100 ] && [ -z \"\$(ss -Htn state listening '( sport = :61616 )')\" ]; do sleep 0.05; i=\$((i+1)); done
		echo listening=\$(ss -Htn state listening '( sport = :61616 )' | wc -l)" >"$d/$h.state"
	if [ "$(cat "$LAB/mq/$h.pid")" = "$(cat "$d/$h.pid0")" ]; then echo restarted=no; else echo restarted=yes; fi >>"$d/$h.state"
}

HZ=$(getconf CLK_TCK)
busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
wait_quiet() {
	local i a b
	for ((i = 0; i < QUIET_WAIT || i == 0; i++)); do
		a=$(busy_jiffies); sleep 1; b=$(busy_jiffies)
		BG=$(awk -v a="$a" -v b="$b" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')
		awk -v bg="$BG" -v q="$QUIET_CORES" 'BEGIN {exit !(bg < q)}' && return 0
	done
	return 0
}

# recap FILE TOOL: "host ok changed unreachable failed skipped" per host in Ansible's terms,
# sorted. From tend's JSON as internal/oracle reads it: tend's ok leaves the changed tasks out
# (Ansible's counts them), and its recheck after apply is not an Ansible task.
recap() {
	if [ "$2" = ansible ]; then
		awk '/^PLAY RECAP/ {r=1; next} r && / : ok=/ {printf "%s", $1; for (i = 3; i <= NF; i++) {split($i, a, "="); v[a[1]] = a[2]}
			print " ok=" v["ok"], "changed=" v["changed"], "unreachable=" v["unreachable"], "failed=" v["failed"], "skipped=" v["skipped"]}' "$1"
	else
		grep '^{' "$1" | jq -rs '
			([.[] | select(.event == "task" and (.data.phase == "recheck" or .data.phase == "verify"))] | group_by(.data.host)
				| map({key: .[0].data.host, value: {ok: map(select(.data.status == "ok")) | length, skipped: map(select(.data.status == "skipped")) | length}})
				| from_entries) as $after
			| [.[] | select(.event == "summary")][-1].data.hosts[]
			| "\(.host) ok=\(.ok + .changed + .ignored - ($after[.host].ok // 0)) changed=\(.changed) unreachable=\(.unreachable) failed=\(.failed) skipped=\(.skipped - ($after[.host].skipped // 0))"'
	fi | sort
}
# counts FILE TOOL: "host message" of the debug task, sorted
counts() {
	if [ "$2" = ansible ]; then
		awk '/^TASK \[Show the count\]/ {r=1; next} /^(TASK|PLAY|RUNNING)/ {r=0} r && /^ok: \[/ {h=$2; gsub(/[\[\]]/, "", h)} r && /"msg":/ {sub(/^ *"msg": "/, ""); sub(/"$/, ""); print h, $0}' "$1"
	else
		grep '^{' "$1" | jq -r 'select(.event == "task" and .data.task == "Show the count") | "\(.data.host) \(.data.change.data.msg // .data.change.summary)"'
	fi | sort
}

# measure N TOOL PHASE REP: time one run, save its output and the end state
measure() {
	local n=$1 tool=$2 phase=$3 rep=$4 d rc=0 args=()
	d=$OUT/$n-$tool-$phase-$rep
	mkdir -p "$d"
	wait_quiet
	[ "$phase" = apply2 ] || each_host reset_host >/dev/null
	snap_pids "$d"
	rm -f "$LAB/h1-sessions.log"
	[ "$phase" = check ] && args=(--check)
	local load1
	read -r load1 _ </proc/loadavg
	if [ "$tool" = tend ]; then
		/usr/bin/time -f '%e %U %S %M' -o "$d/time" timeout 1800 "$BIN/tend" run "$PB" -i "$LAB/hosts.yml" \
			--known-hosts "$LAB/known_hosts" --forks "$n" --format json "${args[@]}" </dev/null >"$d/out" 2>&1 || rc=$?
	else
		(
			cd "$BENCH/ansible"
			export ANSIBLE_CONFIG=$BENCH/ansible/closewait.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
			export ANSIBLE_SSH_ARGS="-C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$LAB/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10"
			exec /usr/bin/time -f '%e %U %S %M' -o "$d/time" timeout 1800 ansible-playbook -i "$LAB/hosts.yml" "$PB" -f "$n" "${args[@]}" </dev/null >"$d/out" 2>&1
		) || rc=$?
	fi
	local sessions=-
	[ -f "$LAB/h1-sessions.log" ] && sessions=$(wc -l <"$LAB/h1-sessions.log")
	STATE_DIR=$d each_host state_host
	recap "$d/out" "$tool" >"$d/recap"
	counts "$d/out" "$tool" >"$d/counts"
	local wall usr sys rss
	read -r wall usr sys rss < <(tail -n 1 "$d/time")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$tool" "$phase" "$rep" "$wall" "$usr" "$sys" "$rss" "$rc" "$sessions" "$BG" "$load1" >>"$ROWS"
	log "$(printf 'N=%-3s %-7s %-6s #%s wall %6ss cpu %6ss rss %6d KB exit %s; h1 sessions %s; bg %s cores, load1 %s; recap %s' \
		"$n" "$tool" "$phase" "$rep" "$wall" "$(awk -v u="$usr" -v s="$sys" 'BEGIN {print u + s}')" "$rss" "$rc" "$sessions" "$BG" "$load1" "$(sed -n 1p "$d/recap" | cut -d' ' -f2-)")"
}

# compare N PHASE REP: tend's end state, recap and counts against Ansible's
DIFFS=0
compare() {
	local n=$1 phase=$2 rep=$3 t a h bad=0
	t=$OUT/$n-tend-$phase-$rep a=$OUT/$n-ansible-$phase-$rep
	for h in "${HOSTS[@]}"; do
		if ! grep -vx '# added by tend' "$t/$h.conf" | cmp -s - "$a/$h.conf"; then
			log "N=$n $phase: $h: sysctl.conf differs:"; diff "$t/$h.conf" "$a/$h.conf" | tee -a "$RESULTS" >&2 || true; bad=1
		fi
		if ! cmp -s "$t/$h.state" "$a/$h.state"; then
			log "N=$n $phase: $h: live state differs:"; diff "$t/$h.state" "$a/$h.state" | tee -a "$RESULTS" >&2 || true; bad=1
		fi
	done
	for f in recap counts; do
		if ! cmp -s "$t/$f" "$a/$f" || [ "$(wc -l <"$t/$f")" != "$n" ]; then
			log "N=$n $phase: $f differs (tend <, ansible >):"; diff "$t/$f" "$a/$f" | tee -a "$RESULTS" >&2 || true; bad=1
		fi
	done
	if [ "$bad" = 0 ]; then
		log "N=$n $phase: same end state on all $n hosts (sysctl.conf, live values, restarted=$(cut -d= -f2 <<<"$(grep restarted "$t/${HOSTS[0]}.state")")), same recap ($(sed -n 1p "$t/recap" | cut -d' ' -f2-)) and counts ($(sed -n 1p "$t/counts" | cut -d' ' -f2-))"
	else
		DIFFS=$((DIFFS + 1))
	fi
}

bench_n() {
	local n=$1 r
	lab_up "$n"
	each_host setup_host
	for ((r = 1; r <= REPS; r++)); do
		# tend's and Ansible's runs of a phase back to back: the others' load on the machine drifts
		measure "$n" tend check "$r"
		measure "$n" ansible check "$r"
		measure "$n" tend apply "$r"
		measure "$n" tend apply2 "$r"
		measure "$n" ansible apply "$r"
		measure "$n" ansible apply2 "$r"
		for phase in check apply apply2; do compare "$n" "$phase" "$r"; done
	done
	teardown
}

report() {
	echo
	echo "Medians of $REPS run(s); wall s (client CPU s). bg = cores other processes used just before"
	echo "the run, load1 = 1-minute load average then; h1 = SSH sessions host h1 saw."
	echo
	echo "| N | run | tend wall s (CPU) | ansible wall s (CPU) | ansible / tend | tend h1 sessions | ansible h1 sessions | bg / load1 |"
	echo "|---:|---|---:|---:|---:|---:|---:|---|"
	awk -F'\t' '
		function med(s,   n, a, i, j, t) { n = split(s, a, " "); for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		{ k = $1 SUBSEP $3 SUBSEP $2; w[k] = w[k] " " $5; c[k] = c[k] " " ($6 + $7); s[k] = $10; if ($9 != 0) bad[k] = 1
		  l[$1 SUBSEP $3] = l[$1 SUBSEP $3] " " $11 "/" $12; if (!(($1 SUBSEP $3) in seen)) { seen[$1 SUBSEP $3] = 1; ord[++no] = $1 SUBSEP $3 } }
		END { for (i = 1; i <= no; i++) { split(ord[i], p, SUBSEP); t = ord[i] SUBSEP "tend"; a = ord[i] SUBSEP "ansible"
			printf "| %s | %s | %.2f (%.2f)%s | %.1f (%.1f)%s | **%.0fx** | %s | %s |%s |\n", p[1], p[2], med(w[t]), med(c[t]), (t in bad) ? " FAIL" : "",
				med(w[a]), med(c[a]), (a in bad) ? " FAIL" : "", med(w[a]) / med(w[t]), s[t], s[a], l[ord[i]] } }' "$ROWS"
	echo
	[ "$DIFFS" = 0 ] && echo "End state, recaps and counts: the same for both tools after every run." ||
		echo "End state, recaps or counts DIFFERED in $DIFFS comparisons (see $RESULTS)."
	echo "rows ($ROWS): N tool phase rep wall user sys maxrssKB exit h1sessions bg load1"
}

IFS=, read -r -a NS <<<"$NS_LIST"
for n in "${NS[@]}"; do bench_n "$n"; done
report | tee -a "$RESULTS"
echo "results: $RESULTS" >&2
[ "$DIFFS" = 0 ]
