#!/usr/bin/env bash
# Start a throw-away, one-node Slurm cluster (munged + slurmctld + slurmd) on
# this machine for integration tests.  Idempotent: if the daemons recorded in
# $STATE/pids are still alive and the node answers, it only re-prints the env.
#
# Usage:
#   eval "$(tests/slurm/start_slurm.sh [STATE])"      # STATE defaults to /tmp/cmsnn-slurm
#   ... sbatch / squeue / snakemake --executor slurm ...
#   tests/slurm/stop_slurm.sh [STATE]
#
# Caller environment: stdout carries ONLY shell `export` lines (meant for
# `eval`); all progress/diagnostics go to stderr.  The same lines are also
# written to $STATE/env.sh, so `source $STATE/env.sh` works from other shells.
# They set SLURM_CONF and put $STATE/bin (client wrappers that default
# SLURM_CONF, needed for `srun` inside snakemake jobs, see below) first on PATH.
# From Python/pytest: env={**os.environ, "SLURM_CONF": f"{state}/slurm.conf",
# "PATH": f"{state}/bin:" + os.environ["PATH"]}.
#
# Layout of $STATE: slurm.conf, gres.conf, munge/{munge.key,munged.sock,...},
# spool/ (SlurmdSpoolDir), statesave/ (StateSaveLocation), log/*.log, run/*.pid,
# pids (one daemon pid per line, read by stop_slurm.sh), env.sh, bin/ (wrappers).
# Nothing is written to /etc (apart from what apt-get installs).
#
# Knobs (environment): SLURMCTLD_PORT (default 6817), SLURMD_PORT (6818),
# SLURM_START_TIMEOUT (seconds to wait for the node to become idle, 60),
# SLURM_GPU_TYPE (unset: untyped `Gres=gpu:1`; e.g. "fake": `Gres=gpu:fake:1`,
# needed only if jobs request a model, as the plugin's gpu_model does with
# `--gpus=<model>:<n>`; untyped `--gpus=1`/`--gres=gpu:1` work either way).
# Config changes take effect only after stop_slurm.sh + start_slurm.sh.
#
# The "GPU" is a stand-in: gres.conf maps gpu:1 to the char device /dev/null, so
# --gpus=1 / --gres=gpu:1 are scheduled and accounted, but there is no device.
set -euo pipefail

STATE="${1:-/tmp/cmsnn-slurm}"
PORTS_GIVEN="${SLURMCTLD_PORT:+ctld}${SLURMD_PORT:+slurmd}"
CTLD_PORT="${SLURMCTLD_PORT:-6817}"
SLURMD_PORT="${SLURMD_PORT:-6818}"
TIMEOUT="${SLURM_START_TIMEOUT:-60}"
GPU_TYPE="${SLURM_GPU_TYPE:-}"   # optional GRES type, e.g. "fake" (see header)

log() { echo "[start_slurm] $*" >&2; }

# The daemons and apt live in sbin, which a non-login root shell may not have on PATH.
export PATH="$PATH:/usr/sbin:/sbin"

# ---------------------------------------------------------------- (a) install
need_install=()
for bin_pkg in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge; do
    command -v "${bin_pkg%%:*}" >/dev/null 2>&1 || need_install+=("${bin_pkg#*:}")
done
if [ "${#need_install[@]}" -gt 0 ]; then
    log "installing ${need_install[*]}"
    # Keep the packages' postinst scripts from starting the system-wide
    # munge/slurm services (Debian's policy-rc.d mechanism; exit 101 = deny).
    tmp_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        tmp_policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' > "$tmp_policy"; chmod 0755 "$tmp_policy"
        trap 'rm -f "$tmp_policy"' EXIT
    fi
    apt_options=(-o Acquire::Retries=2 -o DPkg::Lock::Timeout=120)
    timeout 600 apt-get "${apt_options[@]}" update >&2
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get "${apt_options[@]}" install -y \
        --no-install-recommends slurmctld slurmd slurm-client munge >&2
    if [ -n "$tmp_policy" ]; then rm -f "$tmp_policy"; trap - EXIT; fi
fi

mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd -P)"
CONF="$STATE/slurm.conf"
MUNGE_DIR="$STATE/munge"
SOCK="$MUNGE_DIR/munged.sock"
PIDS="$STATE/pids"

emit_env() {
    {
        printf 'export SLURM_CONF=%q\n' "$CONF"
        printf 'case ":$PATH:" in *:%q:*) ;; *) export PATH=%q:"$PATH" ;; esac\n' \
            "$STATE/bin" "$STATE/bin"
    } > "$STATE/env.sh"
    cat "$STATE/env.sh"
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# ------------------------------------------------------ idempotency: running?
if [ -s "$PIDS" ]; then
    all_alive=1
    while read -r p; do alive "$p" || all_alive=0; done < "$PIDS"
    if [ "$all_alive" = 1 ] && [ "$(wc -l < "$PIDS")" -ge 3 ] \
        && SLURM_CONF="$CONF" timeout 10 sinfo -h >/dev/null 2>&1; then
        log "already running (pids: $(tr '\n' ' ' < "$PIDS"))"
        emit_env
        exit 0
    fi
    log "stale/partial cluster in $STATE, stopping it first"
    "$(dirname "$0")/stop_slurm.sh" "$STATE" >&2 || true
fi
: > "$PIDS"

# ------------------------------------------------------------------- ports
# The standard ports unless asked otherwise; where one is taken (a site's own Slurm,
# a cluster left over from an earlier run), a free one picked by the kernel.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
if [[ "$PORTS_GIVEN" != *ctld* ]] && port_taken "$CTLD_PORT"; then CTLD_PORT="$(free_port)"; fi
if [[ "$PORTS_GIVEN" != *slurmd* ]] && port_taken "$SLURMD_PORT"; then SLURMD_PORT="$(free_port)"; fi
log "ports: slurmctld $CTLD_PORT, slurmd $SLURMD_PORT"

# --------------------------------------------------------------- directories
# munged insists that its directories are not writable by group/other.
chmod 0755 "$STATE"
mkdir -p "$MUNGE_DIR" "$STATE/spool" "$STATE/statesave" "$STATE/log" "$STATE/run"
chmod 0711 "$MUNGE_DIR"   # clients need +x to reach the socket
rm -f "$SOCK" "$SOCK.lock"

# ---------------------------------------------------------------- munge key
KEY="$MUNGE_DIR/munge.key"
if [ ! -s "$KEY" ]; then
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile="$KEY" --force >&2
    else
        dd if=/dev/urandom of="$KEY" bs=1 count=1024 status=none
    fi
fi
chmod 0400 "$KEY"

# -------------------------------------------------------- (c) slurm.conf
HOST="$(hostname -s)"
# `slurmd -C` prints e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1
# CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
HWLINE="$(slurmd -C | head -n1)"
field() { sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" <<<"$HWLINE"; }
CPUS="$(field CPUs)"
SOCKETS="$(field SocketsPerBoard)"
CORES="$(field CoresPerSocket)"
THREADS="$(field ThreadsPerCore)"
REALMEM="$(field RealMemory)"
# leave ~5% (at least 256 MB) for the OS so slurmd does not drain the node
MEM=$(( REALMEM - (REALMEM / 20 > 256 ? REALMEM / 20 : 256) ))
# the host name may resolve to 127.0.0.1 only; pin the address explicitly
ADDR="$(getent hosts "$HOST" | awk 'NR==1{print $1}')"
ADDR="${ADDR:-127.0.0.1}"

cat > "$CONF" <<EOF
# generated by tests/slurm/start_slurm.sh -- one-node test cluster
ClusterName=cmsnn
SlurmctldHost=$HOST($ADDR)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
MinJobAge=600
SlurmdTimeout=300
InactiveLimit=0
KillWait=10
Waittime=0
SchedulerType=sched/backfill
# backfill every 5 s (default 30 s) so small jobs queued behind a GPU job start quickly
SchedulerParameters=bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without a default, CR_*_Memory gives every job the whole node memory (=> one job at a time)
DefMemPerCPU=1024
GresTypes=gpu
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$STATE/statesave
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$HOST NodeAddr=$ADDR CPUs=$CPUS Sockets=$SOCKETS CoresPerSocket=$CORES ThreadsPerCore=$THREADS RealMemory=$MEM Gres=gpu:${GPU_TYPE:+$GPU_TYPE:}1 State=UNKNOWN
PartitionName=gpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
# /dev/null is a char device that always exists: slurmd accepts it as the
# stand-in GPU "device file".
cat > "$STATE/gres.conf" <<EOF
NodeName=$HOST Name=gpu${GPU_TYPE:+ Type=$GPU_TYPE} File=/dev/null
EOF
export SLURM_CONF="$CONF"

# Client wrappers: snakemake-executor-plugin-slurm-jobstep runs `srun` inside
# the job with every SLURM_* variable except a few ids removed -- SLURM_CONF
# included -- so a bare srun would look for /etc/slurm/slurm.conf and fail
# ("Could not establish a configuration source").  $STATE/bin (put first on
# PATH by the env lines; sbatch --export=ALL carries PATH into jobs) holds
# wrappers that default SLURM_CONF to this cluster, keeping /etc untouched.
mkdir -p "$STATE/bin"
for c in srun sbatch squeue scontrol scancel sinfo sacct sacctmgr sshare salloc; do
    real="$(PATH="$(sed "s|$STATE/bin:||g" <<<"$PATH")" command -v "$c" || true)"
    [ -n "$real" ] || continue
    printf '#!/bin/sh\n: "${SLURM_CONF:=%s}"\nexport SLURM_CONF\nexec %s "$@"\n' \
        "$CONF" "$real" > "$STATE/bin/$c"
    chmod 0755 "$STATE/bin/$c"
done

# ------------------------------------------------------------- (d) daemons
dump_logs() {
    local f
    for f in "$STATE"/log/*; do
        [ -s "$f" ] || continue
        echo "===== $f =====" >&2
        tail -n 40 "$f" >&2
    done
}

# print the logs, stop whatever we already started (by recorded pid), exit 1
fail() {
    log "ERROR: $*"
    dump_logs
    "$(dirname "$0")/stop_slurm.sh" "$STATE" >&2 || true
    exit 1
}

start_daemon() {  # name pidfile cmd...
    local name="$1" pidfile="$2"; shift 2
    rm -f "$pidfile"
    log "starting $name"
    # daemons fork themselves; no stdio may stay attached (eval "$(...)" would hang)
    "$@" </dev/null >>"$STATE/log/$name.stdout" 2>&1 || fail "$name failed to start"
    local i
    for i in $(seq 1 50); do
        [ -s "$pidfile" ] && alive "$(cat "$pidfile")" && break
        sleep 0.2
    done
    if ! [ -s "$pidfile" ] || ! alive "$(cat "$pidfile")"; then
        fail "$name did not come up"
    fi
    cat "$pidfile" >> "$PIDS"
}


# munged refuses to run as root without --force
start_daemon munged "$MUNGE_DIR/munged.pid" \
    munged --force --key-file="$KEY" --socket="$SOCK" \
    --pid-file="$MUNGE_DIR/munged.pid" --log-file="$STATE/log/munged.log" \
    --seed-file="$MUNGE_DIR/munged.seed"
# -i: ignore saved state from a previous run; -c: clear the job queue
start_daemon slurmctld "$STATE/run/slurmctld.pid" slurmctld -c -i -f "$CONF"
start_daemon slurmd "$STATE/run/slurmd.pid" slurmd -f "$CONF"

# ---------------------------------------------------------- wait for idle
log "waiting up to ${TIMEOUT}s for node $HOST to become idle"
deadline=$(( $(date +%s) + TIMEOUT ))
while :; do
    st="$(timeout 10 sinfo -h -n "$HOST" -o '%t' 2>/dev/null | head -n1 || true)"
    case "$st" in
        idle*) break ;;
        down*|drain*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    while read -r p; do
        alive "$p" || fail "daemon pid $p died"
    done < "$PIDS"
    if [ "$(date +%s)" -ge "$deadline" ]; then
        timeout 10 sinfo -N -l >&2 || true
        fail "node $HOST not idle after ${TIMEOUT}s (state: '${st:-no answer}')"
    fi
    sleep 1
done
log "cluster up: $(sinfo -h -o '%P %D %t %G' | head -n1) (pids: $(tr '\n' ' ' < "$PIDS"))"

# ----------------------------------------------------------------- (e) env
emit_env
