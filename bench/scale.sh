#!/usr/bin/env bash
# bench/scale.sh — the scale benchmark: 1,000 lab hosts from one controller, then the same as
# 4 concurrent --shard i/4 processes (see README "Benchmark"). Run it on a quiet machine:
#
#   bench/scale.sh                 # = bench/run.sh -n "" --hosts 1000 --shards 4
#   bench/scale.sh --hosts 100     # any run.sh flag may follow (a later one wins)
#   FORKS= bench/scale.sh          # tend's default --forks (200) for the single process, and
#                                  # 200/K for each of the K shards, with --max-connecting 32/K
#                                  # (the same hosts and handshakes at once in all)
#
# Without FORKS= every run has --forks N (every host at once).
# Sourced by bench/run.sh, it defines the functions of run.sh's --hosts mode (they use run.sh's
# measure, lab_up, mq_setup, reset_hosts, floor, run_tend, count_closewait and log).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" -n "" --hosts 1000 --shards 4 "$@"
fi

# arp_entries: entries in the kernel's ARP table (all namespaces: the first column is hex)
arp_entries() {
	local h
	h=$(awk 'NR == 2 {print $1}' /proc/net/stat/arp_cache 2>/dev/null) || true
	if [ -n "$h" ]; then echo $((16#$h)); else echo "?"; fi
}

# check_limits N: what N namespaces, N sshd, N stand-ins and N concurrent ssh clients need against
# this machine's limits; logged with the results. Only one limit is acted on: the neighbour table
# (internal/lab pins it: see pin_neighbours). kernel.*, vm.* and fs.* are never written.
check_limits() {
	local n=$1 nofile_s nofile_h pid_max tasks thresh3 neigh mem_avail
	nofile_s=$(ulimit -Sn) nofile_h=$(ulimit -Hn)
	pid_max=$(cat /proc/sys/kernel/pid_max)
	tasks=$(find /proc -maxdepth 3 -path '/proc/[0-9]*/task/[0-9]*' 2>/dev/null | wc -l || true)
	thresh3=$(cat /proc/sys/net/ipv4/neigh/default/gc_thresh3 2>/dev/null || echo "?")
	neigh=$(arp_entries)
	mem_avail=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
	log "N=$n limits: open files soft $nofile_s hard $nofile_h (one tend holds ~2 per host: socket + session pipes; the floor's xargs -P $n runs $n ssh, 1 each; Go raises its soft limit to the hard one)"
	log "N=$n limits: kernel.pid_max $pid_max, tasks now $tasks (the lab adds ~$((n * 8)): per host an sshd, a stand-in MQ with ~6 threads, the ssh sessions of a run)"
	log "N=$n limits: neighbour (ARP) table: $neigh entries now, gc_thresh3 $thresh3, global to every namespace; the lab adds $((2 * n)) (one each side of each veth)"
	log "N=$n limits: memory available $mem_avail MiB (the lab needs ~$((n * 12)) MiB: sshd, stand-in, overlay /etc per host)"
	[ "$nofile_h" = unlimited ] || [ "$nofile_h" -ge $((2 * n + 256)) ] ||
		log "N=$n limits: WARNING open-file hard limit $nofile_h < $((2 * n + 256)): tend may fail to connect (raise it in the shell: ulimit -Hn)"
	[ $((tasks + n * 8)) -lt "$pid_max" ] ||
		log "N=$n limits: WARNING tasks may reach kernel.pid_max ($pid_max): forks would fail (not changed here: kernel.*)"
	[ "$mem_avail" -gt $((n * 12)) ] || log "N=$n limits: WARNING memory may not suffice"
}

# pin_neighbours: check that every lab veth's neighbour entry is permanent (internal/lab pins both
# sides when it makes the veth, with fixed MACs). The kernel's ARP table is one table for all
# namespaces (6.x exposes gc_thresh* only in the initial namespace); 2N dynamic entries past
# gc_thresh3 (1024 by default) mean "neighbor table overflow": packets dropped, SYNs retried,
# spurious timeouts — before 2026-12-08 a 1,000-host lab could fail to come up (h533's sshd "not
# accepting"). Permanent entries are exempt from that limit and go away with the veths, so the
# global sysctl stays untouched.
pin_neighbours() {
	local n=${#HOSTS[@]} pinned
	pinned=$(ip -4 neigh show nud permanent 2>/dev/null | grep -c ' dev tvr' || true)
	log "N=$n: $pinned root-side neighbour entries permanent (want >= $n); ARP table $(arp_entries) entries"
	[ "$pinned" -ge "$n" ] || log "N=$n: WARNING: lab hosts without a permanent neighbour entry: expect spurious timeouts"
}

# run_shards LABEL TEND-ARGS...: SHARDS tend processes at once, --shard i/SHARDS, each its own
# /usr/bin/time; measured as one row (wall of the whole, RSS of the largest process). Each has
# --forks N, or with FORKS= (empty) tend's default divided among the shards.
run_shards() {
	local n=${#HOSTS[@]} label=$1 i forks
	shift
	forks=$n connecting=32
	if [ "${FORKS-x}" = "" ]; then
		# the same machine-wide limits as the single process: forks and handshakes in flight
		# (--max-connecting, 32 by default, is per process) divided among the shards
		forks=$(((TEND_DEFAULT_FORKS + SHARDS - 1) / SHARDS)) connecting=$(((32 + SHARDS - 1) / SHARDS))
	fi
	log "N=$n $label: $SHARDS processes, --forks $forks --max-connecting $connecting each"
	set -- --forks "$forks" --max-connecting "$connecting" "$@"
	printf '%s\0' "$@" >"$RUN/$label-args"
	measure "$label" "$n" bash -c '
		run=$1 tend=$2 k=$3 label=$4 n=$5 lab=$6; shift 6; pids=()
		for ((i = 0; i < k; i++)); do
			/usr/bin/time -f "%e %U %S %M" -o "$run/time-$label-$n-shard$i.txt" \
				"$tend" run mq-closewait -i "$lab/hosts.yml" --known-hosts "$lab/known_hosts" \
				--format json --shard "$i/$k" "$@" </dev/null >"$run/$label-$n-shard$i.json" 2>"$run/$label-$n-shard$i.err" &
			pids+=($!)
		done
		rc=0; for p in "${pids[@]}"; do wait "$p" || rc=$?; done; exit $rc' _ "$RUN" "$TEND" "$SHARDS" "$label" "$n" "$LAB" "$@"
	for ((i = 0; i < SHARDS; i++)); do
		log "N=$n $label shard $i/$SHARDS: $(tail -n 1 "$RUN/time-$label-$n-shard$i.txt" 2>/dev/null | awk '{printf "wall %ss user %ss sys %ss maxrss %d KB", $1, $2, $3, $4}')"
	done
}

# shard_union SINGLE LABEL: the shards' hosts are every host exactly once, and tend merge of their
# JSON gives the same recap as the single run's JSON (both rendered by tend merge, duration aside).
shard_union() {
	local single=$1 label=$2 n=${#HOSTS[@]} files=() i
	for ((i = 0; i < SHARDS; i++)); do files+=("$RUN/$label-$n-shard$i.json"); done
	jq -r 'select(.event == "summary") | .data.hosts[].host' "${files[@]}" | sort >"$RUN/$label-hosts.txt"
	printf '%s\n' "${HOSTS[@]}" | sort >"$RUN/inventory-hosts.txt"
	local dup missing extra
	dup=$(uniq -d "$RUN/$label-hosts.txt" | wc -l)
	missing=$(comm -23 "$RUN/inventory-hosts.txt" "$RUN/$label-hosts.txt" | wc -l)
	extra=$(comm -13 "$RUN/inventory-hosts.txt" <(sort -u "$RUN/$label-hosts.txt") | wc -l)
	local per=() f
	for f in "${files[@]}"; do per+=("$(jq -r 'select(.event == "summary") | .data.hosts | length' "$f")"); done
	if [ "$dup" = 0 ] && [ "$missing" = 0 ] && [ "$extra" = 0 ]; then
		log "N=$n $label union: every host exactly once (shards hold ${per[*]} hosts)"
		UNION_OK=$((UNION_OK + 1))
	else
		log "N=$n $label union: FAILED: $dup hosts twice, $missing missing, $extra not in the inventory (shards hold ${per[*]})"
		UNION_BAD=$((UNION_BAD + 1))
	fi
>"$RUN/$single-$n.json"
	grep '^{' "$RUN/$single-$n.out" >"$RUN/$single-$n.json" || true
	local u1 u2
	u1=$(jq -r 'select(.event == "summary") | .data.unreachable // [] | length' "$RUN/$single-$n.json")
	u2=$(jq -r 'select(.event == "summary") | .data.unreachable // [] | length' "${files[@]}" | awk '{s += $1} END {print s + 0}')
	log "N=$n unreachable hosts: $single ${u1:-?}, $label $u2 (every host is up: any is spurious)"
	[ "${u1:-1}" = 0 ] && [ "$u2" = 0 ] || UNION_BAD=$((UNION_BAD + 1))
	local rc1=0 rc2=0
	"$TEND" merge "$RUN/$single-$n.json" >"$RUN/$label-single-recap.txt" 2>&1 || rc1=$?
	"$TEND" merge "${files[@]}" >"$RUN/$label-merged-recap.txt" 2>&1 || rc2=$?
	# the recap: from RECAP on, without the run's duration
	if diff <(sed -n '/^RECAP/,$p' "$RUN/$label-single-recap.txt" | grep -v -i 'duration\| in [0-9.]*s$') \
		<(sed -n '/^RECAP/,$p' "$RUN/$label-merged-recap.txt" | grep -v -i 'duration\| in [0-9.]*s$') >"$RUN/$label-recap.diff" &&
		[ "$rc1" = "$rc2" ]; then
		log "N=$n $label merge: tend merge of the $SHARDS shards = the single run's recap (exit $rc2 both)"
		UNION_OK=$((UNION_OK + 1))
	else
		log "N=$n $label merge: DIFFERS from the single run's recap (exit $rc1 vs $rc2; see $RUN/$label-recap.diff)"
		head -20 "$RUN/$label-recap.diff" | tee -a "$RESULTS" >&2
		UNION_BAD=$((UNION_BAD + 1))
	fi
}
UNION_OK=0 UNION_BAD=0

# bench_big N: the scale lab. Checks first, from the state mq_setup left (a check changes nothing,
# and the reset's CLOSE_WAIT sockets last an hour: reset-host.sh): the floor, one controller, then
# SHARDS processes; then the applies, each from a fresh reset. Checks and applies alike get
# TEND_EXTRA (-e mq_restart_serial=100%): with the runbook's default of one broker at a time, a
# 1,000-host check is 1,000 serial batches (a run on 2026-12-07 was at batch 294 after 12 min).
bench_big() {
	local n=$1 r
	check_limits "$n"
	if [ "${FORKS-x}" = "" ]; then log "N=$n: the single process runs with tend's default --forks ($TEND_DEFAULT_FORKS)"; else log "N=$n: every run has --forks $n"; fi
	lab_up "$n"
	pin_neighbours
	mq_setup
	for ((r = 1; r <= BIG_REPS; r++)); do
		floor
		run_tend tend-check --check "${TEND_EXTRA[@]}"
		if [ "$SHARDS" -gt 0 ]; then
			run_shards "tend-check-shards$SHARDS" --check "${TEND_EXTRA[@]}"
			shard_union tend-check "tend-check-shards$SHARDS"
		fi
		PREP=reset_hosts run_tend tend-apply "${TEND_EXTRA[@]}"
		count_closewait "$n" 0 "after tend apply" || true
		if [ "$SHARDS" -gt 0 ]; then
			PREP=reset_hosts run_shards "tend-apply-shards$SHARDS" "${TEND_EXTRA[@]}"
			count_closewait "$n" 0 "after the sharded apply" || true
			shard_union tend-apply "tend-apply-shards$SHARDS"
		fi
	done
	teardown
}
