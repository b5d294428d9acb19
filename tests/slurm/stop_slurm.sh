#!/usr/bin/env bash
# Stop the test cluster started by start_slurm.sh.
# Usage: tests/slurm/stop_slurm.sh [STATE]   (STATE defaults to /tmp/cmsnn-slurm)
#
# 1. cancels this cluster's queued/running jobs (scancel) and waits up to 20 s
#    for them to end, so no job processes are orphaned;
# 2. kills exactly the daemon pids listed in $STATE/pids (TERM, up to 10 s,
#    then KILL), in reverse start order; never matches processes by name;
# 3. safety net: a slurmstepd that outlived slurmd (it ignores TERM while it
#    retries to report to slurmd) is KILLed together with its job processes,
#    but only if it holds THIS cluster's $STATE/log/slurmd.log open.
# The state folder is left in place (logs, config).
set -uo pipefail

STATE="${1:-/tmp/cmsnn-slurm}"
PIDS="$STATE/pids"
CONF="$STATE/slurm.conf"
log() { echo "[stop_slurm] $*" >&2; }
alive() { kill -0 "$1" 2>/dev/null; }

if [ ! -s "$PIDS" ]; then
    log "no pids recorded in $PIDS; nothing to stop"
    exit 0
fi
mapfile -t pids < <(grep -E '^[0-9]+$' "$PIDS")

# ------------------------------------------------------------ 1. cancel jobs
ctld_up=0
for p in "${pids[@]}"; do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = slurmctld ] && ctld_up=1
done
if [ -f "$CONF" ] && [ "$ctld_up" = 1 ]; then
    export SLURM_CONF="$CONF"
    mapfile -t jobs < <(timeout 10 squeue -h -o %A 2>/dev/null)
    if [ "${#jobs[@]}" -gt 0 ]; then
        log "cancelling jobs: ${jobs[*]}"
        timeout 10 scancel "${jobs[@]}" >/dev/null 2>&1 || true
        for _ in $(seq 1 40); do        # up to 20 s (KillWait=10)
            [ -z "$(timeout 10 squeue -h -o %A 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
fi

# ------------------------------------------------------- 2. recorded daemons
live=()
for (( i=${#pids[@]}-1; i>=0; i-- )); do   # slurmd, slurmctld, then munged
    p="${pids[$i]}"
    alive "$p" || continue
    comm="$(cat /proc/"$p"/comm 2>/dev/null || echo '?')"
    # guard against a recycled pid: only our three daemon programs
    case "$comm" in
        munged|slurmctld|slurmd) ;;
        *) log "pid $p is '$comm', not a slurm/munge daemon; skipping"; continue ;;
    esac
    log "TERM $p ($comm)"
    kill -TERM "$p" 2>/dev/null || true
    live+=("$p")
done

for _ in $(seq 1 100); do   # up to 10 s
    still=0
    for p in "${live[@]}"; do alive "$p" && still=1; done
    [ "$still" = 0 ] && break
    sleep 0.1
done
for p in "${live[@]}"; do
    if alive "$p"; then
        log "KILL $p"
        kill -KILL "$p" 2>/dev/null || true
    fi
done

# ---------------------------------------------- 3. orphaned slurmstepd (rare)
descendants() {  # all descendant pids of $1, from /proc/*/stat ppid fields
    local parent="$1" c
    for c in $(awk -v p="$parent" '$4 == p {print $1}' /proc/[0-9]*/stat 2>/dev/null); do
        echo "$c"; descendants "$c"
    done
}
slurmd_log="$(readlink -f "$STATE/log/slurmd.log" 2>/dev/null || true)"
if [ -n "$slurmd_log" ]; then
    for d in /proc/[0-9]*; do
        p="${d#/proc/}"
        case "$(readlink "$d/exe" 2>/dev/null)" in */slurmstepd*) ;; *) continue ;; esac
        for fd in "$d"/fd/*; do
            if [ "$(readlink "$fd" 2>/dev/null)" = "$slurmd_log" ]; then
                kids="$(descendants "$p" | tr '\n' ' ')"
                log "KILL leftover slurmstepd $p and its job processes: ${kids:-none}"
                kill -KILL "$p" $kids 2>/dev/null || true
                break
            fi
        done
    done
fi

: > "$PIDS"
log "stopped"
