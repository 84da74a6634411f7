#!/usr/bin/env bash
# bench/run.sh — time tend's mq-closewait runbook against the bare OpenSSH floor and ansible-core,
# on the test lab (simulated hosts: network namespaces with their own sshd, see internal/lab).
#
#   bench/run.sh [-n 10,50] [--ansible] [--ansible-n 10[,50]] [--hosts N] [--shards K]
#
#   -n LIST         host counts to measure, comma separated (default 10,50; "" for none)
#   --ansible       also time ansible-core for the counts in --ansible-n (default 10: it is slow)
#   --ansible-n L   host counts (a subset of -n) for which ansible-core runs; implies --ansible
#   --hosts N       also an N-host scale lab (e.g. 1000; bench/scale.sh runs exactly that): system
#                   limits checked, floor, tend check + apply from one process, then the same as
#                   --shards K concurrent processes (--shard i/K) whose union and merged recap are
#                   checked against the single run; peak RSS goal <= 200 MiB (--hosts-500 = --hosts 500)
#   --shards K      shard processes for the --hosts lab (default 4; 0: none)
#   --big-reps R    repetitions of each timed run on the --hosts lab (default 1)
#   -r R            repetitions of each timed run (default 3); the table shows medians
#   --quiet-wait S  before each timed run wait up to S seconds (default 90) until the rest of the
#                   machine uses < 0.25 core (others' test runs skew timings); the load seen is
#                   recorded in the "bg" column
#   --hold N        only set up an N-host lab (stand-ins, load, inventory), print its files and
#                   keep it up for up to an hour, until SIGINT/SIGTERM (for bench/profile); its
#                   neighbour entries pinned by the lab are checked as in --hosts (scale.sh pin_neighbours)
#   TEND_SRC=DIR    environment: build tend from DIR instead of this checkout (e.g. a snapshot)
#
# See also bench/closewait.sh: the CLOSE_WAIT runbook as an Ansible user writes it, run unchanged
# by both tools (bench/README.md lists the benchmarks).
#
# Needs root (namespaces), Go, openssh-client/server, iproute2, util-linux, jq, GNU time
# (`apt-get install -y time jq`; ansible-core for --ansible). Traffic goes only to the lab's
# 10.77.x.y addresses and to loopback inside each lab host.
#
# For each host count N, in ONE run, on ONE lab (tend-lab up -n N -overlay-etc, so that the
# atomic rename of /etc/sysctl.conf works):
#   setup   (untimed) start a stand-in MQ (tend-standin-mq) in every host through ssh, leave 60
#           CLOSE_WAIT sockets on each (`tend-standin-mq -load 60` through ssh), so that the
#           runbook's restart path runs (closewait_threshold is 50); write an inventory whose
#           hosts carry mq_service_manager: command and mq_restart_command;
#   floor   `ssh HOST true` over all hosts at once (xargs -P N; OpenSSH with strict host key
#           checking against the lab's known_hosts, the lab client key, ControlMaster=no);
#   tend    `tend run mq-closewait --forks N` in check mode, apply, and a second apply
#           (with -e mq_restart_serial=100% when the playbook has that variable);
#   ansible (with --ansible) ansible-playbook bench/ansible/mq-closewait.yml
#           --check, apply, second apply, with forks = N, pipelining on, host key checking on;
#           then once, for reference, the apply with pipelining off (Ansible's default).
# Right before every check and every first apply (untimed) each host is reset to its initial
# state: sysctl.conf and live values as saved, a fresh stand-in, 60 new CLOSE_WAIT sockets.
# Every measurement is `/usr/bin/time -f '%e %U %S %M'` of the whole client process tree:
# wall s, user s, sys s (children included), peak RSS of its largest process. The lab's sshd and
# the commands they run share the same cores but are not counted in the CPU columns.
# On host h1 only, a ~/.bashrc (bash sources it for commands sshd runs) logs each remote command
# sshd starts, so the results also say how many SSH sessions and TCP connections one host saw
# per run.
#
# Output: a table and ratios on stdout; the log, table and raw rows in bench/out/results-<date>.txt;
# each run's binaries, lab, per-run outputs and h1 session logs in bench/out/run-<date>-<pid>/.
# The lab is torn down on every exit (stand-in MQs killed by PID, then SIGINT to tend-lab, which
# deletes namespaces, veths and sshd processes), on failure and on Ctrl-C too.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
OUT=$BENCH/out
NS_LIST=10,50
ANSIBLE=0
ANSIBLE_NS=10
HOSTS_BIG=0             # --hosts N: the scale lab (0: none)
SHARDS=4                # --shards K: concurrent shard processes on the scale lab
BIG_REPS=1              # --big-reps: repetitions on the scale lab
RSS_GOAL_MB=200         # peak RSS goal of one tend process on the scale lab (MiB)
REPS=3                  # -r: repetitions of every timed run (medians are reported)
QUIET_WAIT=90           # --quiet-wait: wait up to this long for the machine to be idle before a run
QUIET_CORES=0.25        # "idle": other processes use less than this many cores (1 s sample)
HOLD=0                  # --hold N: set a lab up, print its files, keep it for an hour (profiling)
LOAD=60                 # CLOSE_WAIT sockets left on each host
THRESHOLD=50            # the playbook's closewait_threshold (default)
SETUP_PAR=64            # parallel ssh during the untimed setup and resets
SETUP_TIMEOUT=600       # bound of each untimed setup, reset and count over all hosts; lab_up: 600 + 2 s per host
LAB_UP_TIMEOUT=900      # seconds for tend-lab to bring the hosts up
RUN_TIMEOUT=1800        # seconds for any one timed run

usage() { sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	-n) NS_LIST=${2?-n needs a list}; shift 2 ;;
	--ansible) ANSIBLE=1; shift ;;
	--ansible-n) ANSIBLE=1; ANSIBLE_NS=${2:?--ansible-n needs a list}; shift 2 ;;
	--hosts-500) HOSTS_BIG=500; shift ;;
	--hosts) HOSTS_BIG=${2:?--hosts needs a host count}; shift 2 ;;
	--shards) SHARDS=${2:?--shards needs a count}; shift 2 ;;
	--big-reps) BIG_REPS=${2:?--big-reps needs a count}; shift 2 ;;
	--hold) HOLD=${2:?--hold needs a host count}; shift 2 ;;
	-r) REPS=${2:?-r needs a count}; shift 2 ;;
	--quiet-wait) QUIET_WAIT=${2:?--quiet-wait needs seconds}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }
for t in jq /usr/bin/time ssh; do
	command -v "$t" >/dev/null || { echo "run.sh: $t missing (apt-get install -y time jq openssh-client)" >&2; exit 2; }
done
if [ "$ANSIBLE" = 1 ] && ! command -v ansible-playbook >/dev/null; then
	echo "run.sh: installing ansible-core" >&2
	timeout 600 apt-get install -y ansible-core >&2
fi

STAMP=$(date +%Y-%m-%d-%H%M%S)
# Each run has its own directory (lab, binaries, per-run outputs): several runs can coexist.
RUN=$OUT/run-$STAMP-$$
mkdir -p "$RUN/bin"
RESULTS=$OUT/results-$STAMP.txt
ROWS=$RUN/rows.tsv
: >"$ROWS"
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$RESULTS" >&2; }

# ---- build -----------------------------------------------------------------------------------
SRC=${TEND_SRC:-$ROOT}  # TEND_SRC=DIR: build from another checkout (a snapshot, another commit)
log "building tend, tend-lab, tend-standin-mq from $SRC"
(cd "$SRC" && go build -o "$RUN/bin/tend" ./cmd/tend &&
	go build -o "$RUN/bin/tend-lab" ./internal/lab/cmd/tend-lab &&
	go build -o "$RUN/bin/tend-standin-mq" ./internal/standin/cmd/tend-standin-mq)
TEND=$RUN/bin/tend
TEND_DEFAULT_FORKS=$(grep -o 'DefaultForks = [0-9]*' "$SRC/runner/runner.go" | grep -o '[0-9]*$' || echo 50)
STANDIN=$RUN/bin/tend-standin-mq

TEND_EXTRA=()
if grep -q mq_restart_serial "$SRC/playbooks/mq-closewait.yml"; then
	TEND_EXTRA=(-e 'mq_restart_serial=100%')
	SERIAL_NOTE="apply with -e mq_restart_serial=100%"
else
	SERIAL_NOTE="playbook has no mq_restart_serial yet: apply without it (hosts run in parallel up to --forks)"
fi
ANSIBLE_PB=$BENCH/ansible/mq-closewait.yml
if [ "$ANSIBLE" = 1 ] && ! ansible-doc -t module ansible.posix.sysctl >/dev/null 2>&1; then
	ANSIBLE_PB=$BENCH/ansible/mq-closewait-core.yml # lineinfile + command sysctl -w
fi

{
	echo "# tend benchmark $STAMP"
	echo "# machine: $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB, kernel $(uname -r)"
	echo "# $(go version); tend tree $SRC at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo ' + uncommitted changes')"
	echo "# OpenSSH: $(ssh -V 2>&1)"
	[ "$ANSIBLE" = 1 ] && echo "# $(ansible-playbook --version 2>/dev/null | sed -n 1p); playbook $(basename "$ANSIBLE_PB")"
	echo "# $SERIAL_NOTE"
} >>"$RESULTS"

# ---- the lab ---------------------------------------------------------------------------------
LAB=$RUN/lab
LAB_PID=
HOSTS=() ADDRS=()

teardown() {
	local pid i
	if [ -n "${HOLD_PID:-}" ]; then kill "$HOLD_PID" 2>/dev/null || true; HOLD_PID=; fi
	if [ -d "$LAB/mq" ]; then
		for f in "$LAB"/mq/*.pid; do
			[ -f "$f" ] || continue
			pid=$(cat "$f" 2>/dev/null) || continue
			# only our stand-in, by its PID
			if [ -n "$pid" ] && grep -qa tend-standin-mq "/proc/$pid/cmdline" 2>/dev/null; then
				kill "$pid" 2>/dev/null || true
			fi
		done
	fi
	if [ -n "$LAB_PID" ] && kill -0 "$LAB_PID" 2>/dev/null; then
		log "tearing the lab down (SIGINT to tend-lab $LAB_PID)"
		kill -INT "$LAB_PID" 2>/dev/null || true
		for ((i = 0; i < 600; i++)); do kill -0 "$LAB_PID" 2>/dev/null || break; sleep 0.5; done
		if kill -0 "$LAB_PID" 2>/dev/null; then
			log "tend-lab still up after 300 s: SIGTERM"
			kill -TERM "$LAB_PID" 2>/dev/null || true
		fi
		wait "$LAB_PID" 2>/dev/null || true
	fi
	LAB_PID=
	# keep the stand-ins' own logs when they said anything (a failed restart)
	if compgen -G "$LAB/mq/*.log" >/dev/null && [ -n "$(cat "$LAB"/mq/*.log 2>/dev/null)" ]; then
		mkdir -p "$RUN/mq-logs" && cp "$LAB"/mq/*.log "$RUN/mq-logs/" 2>/dev/null || true
	fi
	rm -rf "$LAB"
}
REPORTED=0
trap 'teardown; [ "$REPORTED" = 1 ] || [ ! -s "$ROWS" ] || { log "run.sh: stopped early; what was measured:"; report | tee -a "$RESULTS"; }' EXIT
trap 'exit 130' INT TERM

SSH_OPTS=()
ssh_host() { # ssh_host ADDR COMMAND — untimed helper with a bound
	timeout 120 ssh "${SSH_OPTS[@]}" "root@$1" "$2"
}
export -f ssh_host

lab_up() {
	local n=$1 i
	rm -rf "$LAB" "$RUN/lab.stdout" "$RUN/lab.stderr"
	mkdir -p "$LAB"
	log "N=$n: tend-lab up -n $n -overlay-etc"
	# job control on: tend-lab gets its own process group and does not ignore SIGINT
	set -m
	"$RUN/bin/tend-lab" up -n "$n" -dir "$LAB" -overlay-etc >"$RUN/lab.stdout" 2>"$RUN/lab.stderr" &
	LAB_PID=$!
	set +m
	for ((i = 0; i < LAB_UP_TIMEOUT * 2; i++)); do
		[ -s "$RUN/lab.stdout" ] && break
		kill -0 "$LAB_PID" 2>/dev/null || { cat "$RUN/lab.stderr" >&2; echo "run.sh: tend-lab failed" >&2; return 1; }
		sleep 0.5
	done
	[ -s "$RUN/lab.stdout" ] || { echo "run.sh: tend-lab not up after ${LAB_UP_TIMEOUT}s" >&2; return 1; }
	log "N=$n: lab up in $((i / 2)) s"
	SETUP_TIMEOUT=$((600 + 2 * n)) # a 1000-host setup under load took more than 600 s
	HOSTS=() ADDRS=()
	while read -r name addr; do HOSTS+=("$name"); ADDRS+=("$addr"); done < <(
		awk '/^    [^ ].*:$/ {h=$1; sub(":$","",h)} /ansible_host:/ {print h, $2}' "$LAB/inventory.yml")
	[ "${#HOSTS[@]}" = "$n" ] || { echo "run.sh: inventory has ${#HOSTS[@]} hosts, want $n" >&2; return 1; }
	SSH_OPTS=(-F /dev/null -i "$LAB/client_ed25519" -o IdentitiesOnly=yes
		-o "UserKnownHostsFile=$LAB/known_hosts" -o StrictHostKeyChecking=yes
		-o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR -o ControlMaster=no)
}

# The restart command the inventory gives each host: kill the stand-in by its pidfile, start a
# new one detached (as cmd/tend/mq_integration_test.go does).
write_restart_script() {
	cat >"$LAB/restart-mq.sh" <<'EOF'
#!/bin/sh
pidfile=$1 bin=$2
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile")
  kill "$old" 2>/dev/null
  # a zombie counts as gone: its sockets are closed (this sandbox's PID 1 reaps orphans ~2 s late)
  i=0; while [ $i -lt 100 ] && kill -0 "$old" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$old/status" 2>/dev/null; do sleep 0.05; i=$((i+1)); done
  if [ $i -ge 100 ]; then echo "$(date +%T) $old alive 5 s after SIGTERM: SIGKILL" >>"$pidfile.log"; kill -KILL "$old" 2>/dev/null; sleep 0.2; fi
fi
# and the port is free: a Go process's main thread shows as a zombie while its other threads may
# still be closing its files (the listener among them)
i=0; while [ $i -lt 200 ] && [ -n "$(ss -Htn state listening '( sport = :61616 )' 2>/dev/null)" ]; do sleep 0.05; i=$((i+1)); done
[ $i -lt 200 ] || echo "$(date +%T) 61616 still bound 10 s after the old MQ ended" >>"$pidfile.log"
setsid "$bin" -listen 127.0.0.1:61616 -pidfile "$pidfile" -lifetime 90m </dev/null >>"$pidfile.log" 2>&1 &
EOF
	chmod 755 "$LAB/restart-mq.sh"
	# reset-host.sh: back to the state before any run (file content, live values, CLOSE_WAIT)
	cat >"$LAB/reset-host.sh" <<'EOF'
#!/bin/sh
saved=$1 standin=$2 load=$3 restart=$4 pidfile=$5
cat "$saved.conf" > /etc/sysctl.conf
# tend's state on this host (tend_state_dir: budget records, pending markers): every timed run
# starts as a first remediation, not a relapse nor a spent restart budget (3 per 24h)
rm -rf "${pidfile%.pid}.state"
while IFS= read -r kv; do sysctl -q -w "$kv" >/dev/null; done < "$saved.live"
# a fresh stand-in (no CLOSE_WAIT left by earlier probes), then the load
old=$(cat "$pidfile" 2>/dev/null)
"$restart" "$pidfile" "$standin"
i=0
while [ $i -lt 600 ]; do
  new=$(cat "$pidfile" 2>/dev/null)
  [ -n "$new" ] && [ "$new" != "$old" ] && [ -n "$(ss -Htln '( sport = :61616 )')" ] && break
  sleep 0.05; i=$((i+1))
done
# The stand-in enables TCP keepalive (Go's default), so its CLOSE_WAIT sockets vanish once the
# clients' orphaned FIN_WAIT2 ends (tcp_fin_timeout) and a probe meets a reset. Closing the
# clients under a long tcp_fin_timeout keeps them for an hour; then the saved value is back.
sysctl -q -w net.ipv4.tcp_fin_timeout=3600
"$standin" -load "$load" -listen 127.0.0.1:61616
while IFS= read -r kv; do sysctl -q -w "$kv" >/dev/null; done < "$saved.live"
EOF
	chmod 755 "$LAB/reset-host.sh"
}

KEYS="net.ipv4.tcp_keepalive_time net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes net.ipv4.tcp_fin_timeout net.ipv4.tcp_syn_retries net.ipv4.tcp_orphan_retries net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_syncookies net.ipv4.tcp_tw_reuse"

mq_setup() { # start stand-ins, save initial state, load CLOSE_WAIT; write the inventory
	local n=${#HOSTS[@]} i
	mkdir -p "$LAB/mq"
	write_restart_script
	log "N=$n: starting stand-in MQs, saving initial state"
	for ((i = 0; i < n; i++)); do
		printf '%s %s\n' "${ADDRS[$i]}" "${HOSTS[$i]}"
	done | SSH_OPTS_STR="${SSH_OPTS[*]}" LAB="$LAB" STANDIN="$STANDIN" KEYS="$KEYS" LOAD="$LOAD" \
		timeout "$SETUP_TIMEOUT" xargs -P "$SETUP_PAR" -L 1 bash -c '
			addr=$1 h=$2; read -r -a SSH_OPTS <<<"$SSH_OPTS_STR"
			s=$LAB/mq/$h
			ssh_host "$addr" "cat /etc/sysctl.conf > $s.saved.conf &&
				{ for k in $KEYS; do p=/proc/sys/\$(echo \$k | tr . /); if [ -e \$p ]; then echo \$k=\$(cat \$p); fi; done > $s.saved.live; } &&
				$LAB/restart-mq.sh $s.pid $STANDIN" || { echo "$h: start failed" >&2; exit 255; }
			for i in $(seq 1 100); do [ -s "$s.pid" ] && break; sleep 0.1; done
			[ -s "$s.pid" ] || { echo "$h: no pidfile" >&2; exit 255; }
		' _ || { log "N=$n: starting the stand-ins failed or took more than ${SETUP_TIMEOUT}s"; return 1; }
	# per-host restart command vars; the lab's own connection vars
	{
		echo "all:"
		echo "  hosts:"
		for ((i = 0; i < n; i++)); do
			echo "    ${HOSTS[$i]}:"
			echo "      ansible_host: ${ADDRS[$i]}"
			echo "      ansible_port: 22"
			echo "      ansible_user: root"
			echo "      ansible_ssh_private_key_file: $LAB/client_ed25519"
			echo "      mq_service_manager: command"
			echo "      mq_restart_command: $LAB/restart-mq.sh $LAB/mq/${HOSTS[$i]}.pid $STANDIN"
			# the lab's hosts share /var/lib: each its own budget records and pending markers
			echo "      tend_state_dir: $LAB/mq/${HOSTS[$i]}.state"
		done
	} >"$LAB/hosts.yml"
	# h1 logs each command its sshd starts (see the header)
	cat >"$LAB/h1/root/.bashrc" <<EOF
read -r __pc < /proc/\$PPID/comm 2>/dev/null
case \$__pc in sshd*) __c=\${BASH_EXECUTION_STRING//\$'\\n'/ }; printf '%s %s %s\n' "\$EPOCHREALTIME" "\${SSH_CLIENT%% 22}" "\${__c:0:100}" >> $LAB/h1-sessions.log ;; esac
unset __pc __c
EOF
	rm -f "$LAB/h1-sessions.log"
	reset_hosts
}

# count_closewait N WANT LABEL [exact|max|min]: every host must show WANT CLOSE_WAIT sockets
# (max: at most WANT; min: at least WANT)
count_closewait() {
	local n=$1 want=$2 label=$3 cmp=${4:-exact} bad
	bad=$(printf '%s\n' "${ADDRS[@]}" | SSH_OPTS_STR="${SSH_OPTS[*]}" timeout "$SETUP_TIMEOUT" xargs -P "$SETUP_PAR" -I{} bash -c '
		read -r -a SSH_OPTS <<<"$SSH_OPTS_STR"
		c=$(ssh_host {} "ss -Htan state close-wait \"( sport = :61616 )\" | wc -l") || c=err
		echo "{} $c"' | awk -v w="$want" -v cmp="$cmp" '$2 == "err" || (cmp == "exact" ? $2 != w : (cmp == "max" ? $2 + 0 > w + 0 : $2 + 0 < w + 0)) {print $2}' | sort | uniq -c | tr -s ' \n' ' ')
	if [ -n "$bad" ]; then
		log "N=$n $label: hosts not showing $want CLOSE_WAIT sockets (count hosts: value):$bad"
		return 1
	fi
	log "N=$n $label: every host shows $([ "$cmp" = exact ] || echo "$cmp ")$want CLOSE_WAIT sockets on 61616"
}

# busy_jiffies: CPU time of the whole machine (all cores, every process: the lab's sshd and the
# commands they run included) in clock ticks, from /proc/stat
HZ=$(getconf CLK_TCK)
busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }

# wait_quiet: wait (bounded) until the machine is idle; sets BG to the cores busy in the last 1 s sample
wait_quiet() {
	local i a b
	for ((i = 0; i < QUIET_WAIT; i++)); do
		a=$(busy_jiffies); sleep 1; b=$(busy_jiffies)
		BG=$(awk -v a="$a" -v b="$b" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')
		awk -v bg="$BG" -v q="$QUIET_CORES" 'BEGIN {exit !(bg < q)}' && return 0
		[ $((i % 30)) = 0 ] && log "machine busy ($BG cores used by other processes): waiting up to ${QUIET_WAIT}s"
	done
	if [ "$QUIET_WAIT" -le 0 ]; then
		a=$(busy_jiffies); sleep 1; b=$(busy_jiffies)
		BG=$(awk -v a="$a" -v b="$b" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')
		return 0
	fi
	log "machine still busy after ${QUIET_WAIT}s ($BG cores): measuring anyway, see the bg column"
}

# measure LABEL N CMD...: time CMD, append a row; output in $RUN/LABEL-N.out
measure() {
	local label=$1 n=$2 rc=0 tf out
	shift 2
	tf=$RUN/time-$label-$n.txt out=$RUN/$label-$n.out
	wait_quiet
	# PREP (e.g. reset_hosts) runs after the wait, right before the timed run: the stand-in's
	# CLOSE_WAIT sockets do not last (see reset_hosts)
	if [ -n "${PREP:-}" ]; then $PREP; fi
	rm -f "$LAB/h1-sessions.log"
	local b0 b1
	LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /) # 1/5/15-minute load average right before the run
	b0=$(busy_jiffies)
	/usr/bin/time -f '%e %U %S %M' -o "$tf" timeout "$RUN_TIMEOUT" "$@" >"$out" 2>&1 || rc=$?
	b1=$(busy_jiffies)
	local machine
	machine=$(awk -v a="$b0" -v b="$b1" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')
	local sessions=- conns=-
	if [ -f "$LAB/h1-sessions.log" ]; then
		sessions=$(wc -l <"$LAB/h1-sessions.log")
		conns=$(awk '{print $3}' "$LAB/h1-sessions.log" | sort -u | wc -l)
		cp "$LAB/h1-sessions.log" "$RUN/sessions-$label-$n.log"
	fi
	read -r wall usr sys rss < <(tail -n 1 "$tf")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$label" "$wall" "$usr" "$sys" "$rss" "$rc" "$sessions" "$conns" "$machine" "$BG" "$LOADAVG" >>"$ROWS"
	log "$(printf 'N=%-4s %-16s wall %7ss user %7ss sys %7ss maxrss %6d KB exit %s; machine CPU %ss (bg %s cores, load avg %s); h1: %s sessions, %s conns' \
		"$n" "$label" "$wall" "$usr" "$sys" "$rss" "$rc" "$machine" "$BG" "$LOADAVG" "$sessions" "$conns")"
	return 0
}

# tend_check_result LABEL N: what the JSON said (restarts done/planned, failures)
tend_note() {
	local f=$RUN/$1-$2.out
	grep '^{' "$f" | jq -rs '. as $all
		| ([$all[] | select(.event=="task" and ((.data.task // "")|startswith("Restart")) and .data.status=="changed")] | length) as $r
		| ([$all[] | select(.event=="summary")][-1].data) as $s
		| ([$all[] | select(.event=="task" and .data.status=="unreachable") | .data.host] | unique | length) as $u
		| "restart changed on \($r) hosts; failed \($s.failed // [] | length); unreachable \($u)"' \
		2>/dev/null || echo "no JSON summary (see $f)"
}
ansible_note() {
	local f=$RUN/$1-$2.out
	awk '/PLAY RECAP/ {r=1; next} r && /ok=/ {h++; for (i=1;i<=NF;i++) {split($i,a,"="); s[a[1]]+=a[2]}}
		END {printf "hosts %d: ok=%d changed=%d failed=%d unreachable=%d skipped=%d\n", h, s["ok"], s["changed"], s["failed"], s["unreachable"], s["skipped"]}' "$f"
}

floor() {
	local n=${#HOSTS[@]}
	printf '%s\n' "${ADDRS[@]}" >"$LAB/addrs"
	measure ssh-floor "$n" xargs -P "$n" -I{} ssh "${SSH_OPTS[@]}" "root@{}" true <"$LAB/addrs"
}

run_tend() { # FORKS= (empty) for tend's default --forks; else --forks N
	local n=${#HOSTS[@]} label=$1 forks=()
	shift
	[ "${FORKS-x}" = "" ] || forks=(--forks "$n")
	measure "$label" "$n" "$TEND" run mq-closewait -i "$LAB/hosts.yml" --known-hosts "$LAB/known_hosts" \
		"${forks[@]}" --format json "$@" </dev/null
	log "N=$n $label: $(tend_note "$label" "$n")"
}

run_ansible() {
	local n=${#HOSTS[@]} label=$1
	shift
	(
		cd "$BENCH/ansible"
		export ANSIBLE_CONFIG=$BENCH/ansible/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
		[ -n "${ANSIBLE_PIPELINING:-}" ] && export ANSIBLE_PIPELINING
		export ANSIBLE_SSH_ARGS="-C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$LAB/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10"
		measure "$label" "$n" ansible-playbook -i "$LAB/hosts.yml" "$ANSIBLE_PB" -f "$n" "${TEND_EXTRA[@]}" "$@" </dev/null
	)
	log "N=$n $label: $(ansible_note "$label" "$n")"
}

# reset_hosts: every host back to its initial state: sysctl.conf and live values as saved at
# setup, a fresh stand-in, and LOAD new CLOSE_WAIT sockets. Done right before each timed run:
# the stand-in (Go's net.Listen) enables TCP keepalive on accepted sockets, so once the client's
# orphaned FIN_WAIT2 side is gone (tcp_fin_timeout, 60 s) a keepalive probe is answered with a
# reset and the CLOSE_WAIT sockets vanish after roughly 75-90 s.
reset_hosts() {
	local n=${#HOSTS[@]} attempt i
	for attempt in 1 2 3; do
		log "N=$n: resetting hosts (sysctl.conf, live values, $LOAD CLOSE_WAIT again)"
		for ((i = 0; i < n; i++)); do printf '%s %s\n' "${ADDRS[$i]}" "${HOSTS[$i]}"; done |
			SSH_OPTS_STR="${SSH_OPTS[*]}" LAB="$LAB" STANDIN="$STANDIN" LOAD="$LOAD" timeout "$SETUP_TIMEOUT" xargs -P "$SETUP_PAR" -L 1 bash -c '
				read -r -a SSH_OPTS <<<"$SSH_OPTS_STR"
				ssh_host "$1" "$LAB/reset-host.sh $LAB/mq/$2.saved $STANDIN $LOAD $LAB/restart-mq.sh $LAB/mq/$2.pid" || echo "$2: reset failed" >&2' _ || true
		# above the threshold (50) is what matters: the restart path runs. Under heavy load a few
		# -load clients time out reading the greeting and reset instead of closing (no CLOSE_WAIT).
		count_closewait "$n" "$((THRESHOLD + 1))" "reset (want >= $((THRESHOLD + 1)) of $LOAD)" min && return 0
	done
	return 1
}

in_list() { [[ ",$2," == *",$1,"* ]]; }

bench_n() {
	local n=$1 full=${2:-1}
	lab_up "$n"
	mq_setup
	# Every check and first apply starts from the initial state, freshly reset (PREP).
	local r
	for ((r = 1; r <= REPS; r++)); do
		floor
		PREP=reset_hosts run_tend tend-check --check
	done
	for ((r = 1; r <= REPS; r++)); do
		PREP=reset_hosts run_tend tend-apply "${TEND_EXTRA[@]}"
		count_closewait "$n" 0 "after tend apply" || true
		if [ "$full" = 1 ]; then
			run_tend tend-apply2 "${TEND_EXTRA[@]}"
		fi
	done
	if [ "$n" -gt "$TEND_DEFAULT_FORKS" ]; then
		# also with tend's default --forks (hosts in waves), once each
		FORKS= PREP=reset_hosts run_tend tend-check-deffork --check
		FORKS= PREP=reset_hosts run_tend tend-apply-deffork "${TEND_EXTRA[@]}"
	fi
	if [ "$ANSIBLE" = 1 ] && in_list "$n" "$ANSIBLE_NS"; then
		for ((r = 1; r <= REPS; r++)); do
			PREP=reset_hosts run_ansible ansible-check --check
			PREP=reset_hosts run_ansible ansible-apply
			# wait_for's own probe connection stays in CLOSE_WAIT on the stand-in (it never closes)
			count_closewait "$n" 1 "after ansible apply" max || true
			run_ansible ansible-apply2
		done
		# a reference only (not a target): the same apply with Ansible's default pipelining=False
		PREP=reset_hosts ANSIBLE_PIPELINING=False run_ansible ansible-apply-nopipe
	fi
	teardown
}

# the scale lab (--hosts N): check_limits, pin_neighbours, run_shards, shard_union, bench_big
# shellcheck source=bench/scale.sh
source "$BENCH/scale.sh"

# ---- report ----------------------------------------------------------------------------------
report() {
	echo
	echo "Medians of $REPS runs each ($BIG_REPS on the --hosts lab; min wall in brackets). client CPU = user+sys of the measured process tree;"
	echo "machine CPU = all $(nproc) cores over the run (the lab's sshd and remote commands included); bg = cores"
	echo "other processes used just before the run; h1 = SSH sessions / TCP connections host h1 saw."
	echo
	echo "| N | run | wall s | client CPU s | machine CPU s | peak RSS MB | bg | load avg 1/5/15 | exit | h1 sessions / conns |"
	echo "|---:|---|---:|---:|---:|---:|---:|---|---|---|"
	awk -F'\t' '
		function med(k, f,   n, i, j, t, a) { n = split(v[k, f], a, " "); for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		function mn(k, f,   n, i, a, m) { n = split(v[k, f], a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
		function mx(k, f,   n, i, a, m) { n = split(v[k, f], a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
		{ k = $1 SUBSEP $2; if (!(k in seen)) { seen[k] = 1; order[++no] = k }
		  v[k, "wall"] = v[k, "wall"] " " $3; v[k, "cpu"] = v[k, "cpu"] " " ($4 + $5); v[k, "rss"] = v[k, "rss"] " " $6
		  v[k, "mach"] = v[k, "mach"] " " $10; v[k, "bg"] = v[k, "bg"] " " $11
		  if ($7 != 0) bad[k] = bad[k] " " $7; sess[k] = $8 " / " $9; la[k] = la[k] (la[k] == "" ? "" : " ") $12 }
		END { for (i = 1; i <= no; i++) { k = order[i]; split(k, p, SUBSEP)
			printf "| %s | %s | %.2f (%.2f) | %.2f | %.1f | %.1f | %.2f | %s | %s | %s |\n", p[1], p[2], med(k, "wall"), mn(k, "wall"),
				med(k, "cpu"), med(k, "mach"), mx(k, "rss") / 1024, med(k, "bg"), la[k], (k in bad) ? "FAIL" bad[k] : "0", sess[k]
			printf "%s\t%s\t%s\t%s\n", p[1], p[2], med(k, "wall"), med(k, "cpu") > "/dev/stderr" } }' "$ROWS" 2>"$RUN/medians.tsv"
	echo
	echo "Ratios of median wall times (peak RSS is the max over the runs):"
	awk -F'\t' '
		$2 == "ssh-floor" { fl[$1] = $3; next } { w[$1, $2] = $3; c[$1, $2] = $4; ns[$1] = 1 }
		END { for (n in ns) {
			nm = split("check apply apply2 check-shards" k " apply-shards" k, m, " ")
			for (i = 1; i <= nm; i++) { t = "tend-" m[i]; a = "ansible-" m[i]
				if ((n SUBSEP t) in w) printf "  N=%-3s %-12s / ssh floor   = %5.2fx  (target at N=50: <= 1.5x for check and apply)\n", n, t, w[n, t] / fl[n]
				if ((n SUBSEP a) in w && (n SUBSEP t) in w) printf "  N=%-3s %-14s / %-12s = %5.1fx  (target >= 50x); client CPU %5.1fx\n", n, a, t, w[n, a] / w[n, t], c[n, a] / c[n, t] } } }' k="$SHARDS" "$RUN/medians.tsv" | sort -t= -k2 -n
	awk -F'\t' -v big="$HOSTS_BIG" -v goal="$RSS_GOAL_MB" '$1 == big && $2 ~ /^tend-/ { if ($6 > m[$2]) m[$2] = $6 }
		END { for (l in m) printf "  N=%s %s peak RSS %.1f MiB (goal <= %d MiB, one process): %s\n", big, l, m[l] / 1024, goal, (m[l] / 1024 <= goal ? "met" : "MISSED") }' "$ROWS"
	[ "$HOSTS_BIG" = 0 ] || [ "$SHARDS" = 0 ] ||
		echo "  N=$HOSTS_BIG shards: $UNION_OK checks passed, $UNION_BAD failed (union exactly once, merged recap = single recap, no unreachable)"
	echo
	echo "raw rows ($ROWS): N run wall user sys maxrssKB exit h1sessions h1conns machineCPU bg loadavg"
}
# ---- main ------------------------------------------------------------------------------------
if [ "$HOLD" != 0 ]; then
	lab_up "$HOLD"
	pin_neighbours # as bench_big does: past ~500 hosts the ARP table would overflow without the pins
	mq_setup
	log "holding: inventory $LAB/hosts.yml known_hosts $LAB/known_hosts; SIGINT/SIGTERM (kill $$) tears down"
	sleep 3600 &
	HOLD_PID=$!
	wait "$HOLD_PID" || true
	exit 0
fi

IFS=, read -r -a NS <<<"$NS_LIST"
for n in "${NS[@]}"; do
	bench_n "$n"
done
if [ "$HOSTS_BIG" != 0 ]; then
	bench_big "$HOSTS_BIG"
fi

REPORTED=1
report | tee -a "$RESULTS"
cat "$ROWS" >>"$RESULTS"
echo "raw results: $RESULTS" >&2
