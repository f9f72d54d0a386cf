#!/bin/sh
# argo-migrate slurm-job: one SLURM batch job (or a workflow engine's command line) on a login node, over ssh.
#
# Init      the pod's inputs folder and the job script go to the work folder on the login node, a folder named
#           like the job under remote-dir (rsync when both sides have it, else tar through ssh); a sources bundle
#           (AM_SOURCES_DIR holding argo-migrate-index.json) goes along and the login node's python3 lays it out.
# Main      there: `sbatch --parsable --wait ... argo-migrate-job.sh`, or the command in its own process group.
#           The step's exit code is the job's (128+signal when it was killed; 1 when SLURM gives none).
# Finalize  outputs-path, in the work folder, comes back into the pod's outputs folder, also after a failure;
#           the job id, its final state and exit code are written as the step's output parameters.
# Stop      SIGTERM (workflow stopped, failed elsewhere, deadline) cancels the job by its name; AM_MODE=cancel,
#           the template's exit hook, does the same when the pod died without running this trap.
#
# The job name is <job-name>-<checksum of the workflow uid and the caller's node>: the same in the run step and in
# its exit hook, different for every call. A connection that fails or breaks (ssh's own exit status 255; a remote
# command's 255 is reported as 254) is retried with a doubling backoff, and a broken wait re-attaches to the job
# already submitted: a job is never submitted twice, and a job that failed is never retried here.
#
# Exit codes besides the job's: 64 bad parameters, 69 the login node stayed unreachable, 70 the job's fate is
# unknown (its record expired while disconnected), 77 the key or the host key was refused, 143 stopped.
# $SSH_OPTS is split into words on purpose; remote commands are built here from quoted words; functions run
# from traps and retry():
# shellcheck disable=SC2086,SC2029,SC2317
set -u
umask 077
# The local runner (argo-migrate run --local) rewrites every path the template declares wherever it stands alone in
# this text, the root folder's one-character path included: a slash standing alone is spelled $SLASH here.
SLASH=$(printf '\057')

MODE=${AM_MODE:-run}
SECRET_DIR=${AM_SECRET_DIR:-/etc/argo-migrate/slurm-ssh}
RESULTS=${AM_RESULTS:-/tmp/argo-migrate-slurm}
INPUTS=${AM_INPUTS_PATH:-/work/inputs}
OUTPUTS=${AM_OUTPUTS:-/work/outputs}
HOST=${AM_HOST:-}
PORT=${AM_PORT:-22}
LOGIN=${AM_USER:-}
ATTEMPTS=${AM_SSH_ATTEMPTS:-6}
BACKOFF=${AM_SSH_BACKOFF:-5}
OUTREL=${AM_OUTPUTS_PATH:-outputs}
DATA_DIR=${AM_DATA_DIR:-${TMPDIR:-/tmp}}
SOURCES_DIR=${AM_SOURCES_DIR:-}
SCRIPT_NAME=argo-migrate-job.sh
# The wrapper's own files in the work folder (markers, the job script, the sources bundle): never copied back.
OWN_FILES='.argo-migrate*'
# Lays out the sources bundle before anything runs; 96 when it cannot (no python3 on the login node).
UNPACK_SOURCES="if [ -d .argo-migrate-sources ] && [ ! -e .argo-migrate-unpacked ]; then
  python3 .argo-migrate-unpack.py .argo-migrate-sources . || exit 96
  : > .argo-migrate-unpacked
fi"
child=
tmp=
data=

log() { printf 'argo-migrate: %s\n' "$*" >&2; }
die() { code=$1; shift; log "$*"; exit "$code"; }

# A word for the remote POSIX shell: single-quoted, embedded quotes closed and escaped.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s|'|'\\\\''|g")"; }

check_word() {  # NAME VALUE PATTERN-DESCRIPTION: refuse what ssh or the remote shell could read as an option
    case $2 in
        -*|*[!A-Za-z0-9._:@~+/-]*) die 64 "parameter $1 = '$2' is not $3" ;;
    esac
}

[ -n "$HOST" ] || die 64 "parameter host is empty: name the login node"
check_word host "$HOST" "a host name or address"
[ -z "$LOGIN" ] || check_word user "$LOGIN" "a user name"
case $PORT in ''|*[!0-9]*) die 64 "parameter port = '$PORT' is not a number" ;; esac
case $ATTEMPTS in ''|*[!0-9]*|0) ATTEMPTS=6 ;; esac
case $BACKOFF in ''|*[!0-9]*) BACKOFF=5 ;; esac
REMOTE_DIR=${AM_REMOTE_DIR:-argo-migrate}
case $REMOTE_DIR in "~$SLASH"*) REMOTE_DIR=${REMOTE_DIR#??} ;; esac  # relative paths are in the home already
check_word remote-dir "$REMOTE_DIR" "a plain path (letters, digits, dots, dashes, underscores and slashes)"
check_word outputs-path "$OUTREL" "a plain relative path"
case $OUTREL in
    [!A-Za-z0-9_.]*|..|../*|*/..|*/../*) die 64 "parameter outputs-path = '$OUTREL' is not inside the work folder" ;;
esac

PREFIX=$(printf '%s' "${AM_JOB_NAME:-argo-migrate}" | tr -c 'A-Za-z0-9._-' '_' | cut -c1-40)
NAME="$PREFIX-$(printf '%s' "${AM_RUN_KEY:-}" | cksum | cut -d' ' -f1)"
DIR="$REMOTE_DIR/$NAME"
TARGET="${LOGIN:+$LOGIN@}$HOST"

# The key's copy and ssh's files go to AM_PRIVATE_DIR (the template mounts a memory-backed emptyDir there, so the
# key never reaches the node's disk); staged inputs and outputs go to AM_DATA_DIR (an emptyDir too).
private=${AM_PRIVATE_DIR:-/tmp}
mkdir -p "$private" "$DATA_DIR" 2>/dev/null
case $private in *[!A-Za-z0-9._/-]*) private=/tmp ;; esac  # the ssh options below are split on spaces
tmp=$(mktemp -d "$private/am-slurm.XXXXXX") || die 1 "cannot create a private temporary folder"
cleanup() {
    [ -z "$tmp" ] || rm -rf "$tmp"
    [ -z "$data" ] || rm -rf "$data"
}
trap cleanup EXIT

# The Secret's files may be readable by the pod's group (fsGroup): ssh refuses such a key, so it gets a 0600 copy.
[ -r "$SECRET_DIR/ssh-privatekey" ] ||
    die 77 "no key ssh-privatekey in the Secret slurm-ssh (mounted at $SECRET_DIR)"
[ -r "$SECRET_DIR/known_hosts" ] ||
    die 77 "no key known_hosts in the Secret slurm-ssh (mounted at $SECRET_DIR): host keys must be pinned"
if ! cp "$SECRET_DIR/ssh-privatekey" "$tmp/key" || ! cp "$SECRET_DIR/known_hosts" "$tmp/known_hosts"; then
    die 77 "cannot read the Secret slurm-ssh at $SECRET_DIR"
fi
chmod 600 "$tmp/key"

# One line: rsync splits its -e command on spaces only. ssh's own messages go to ssh.log (-E), the remote
# command's stderr to ours.
SSH_OPTS="-F /dev/null -E $tmp/ssh.log -p $PORT -i $tmp/key -o IdentitiesOnly=yes -o IdentityAgent=none"
SSH_OPTS="$SSH_OPTS -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$tmp/known_hosts"
SSH_OPTS="$SSH_OPTS -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=${AM_CONNECT_TIMEOUT:-20}"
SSH_OPTS="$SSH_OPTS -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -o LogLevel=ERROR"

refused() {  # ssh's own messages (never the key) say the credentials, not the network, are at fault
    grep -q -i -e 'Permission denied' -e 'Host key verification failed' -e 'host key is known' \
        -e 'IDENTIFICATION HAS CHANGED' -e 'Too many authentication failures' -e 'Load key' \
        -e 'invalid format' -e 'UNPROTECTED PRIVATE KEY' "$tmp/ssh.log" 2>/dev/null
}

ssh_reason() { tr '\n' ' ' < "$tmp/ssh.log" 2>/dev/null | sed 's| *$||'; }

# remote_once CMD OUT [IN]: CMD on the login node, stdout into OUT; ssh's status (255: no or a broken connection).
remote_once() {
    : > "$tmp/ssh.log"
    wrapped="{ $1
}; s=\$?; [ \"\$s\" -eq 255 ] && s=254; exit \"\$s\""
    if [ $# -ge 3 ]; then
        ssh $SSH_OPTS "$TARGET" "$wrapped" < "$3" > "$2" &
    else
        ssh $SSH_OPTS -n "$TARGET" "$wrapped" > "$2" &
    fi
    child=$!
    wait "$child"
    rc=$?
    child=
    if [ "$rc" -eq 255 ] && refused; then
        die 77 "the login node $TARGET:$PORT refused the credentials of the Secret slurm-ssh ($(ssh_reason));" \
            "check its keys ssh-privatekey and known_hosts"
    fi
    return "$rc"
}

pause() { sleep "$1" & child=$!; wait "$child"; child=; }  # interruptible: a trap runs during `wait`

# retry WHAT FUNCTION ARGS...: FUNCTION again while it returns 255 (no or a broken connection); 69 when the
# attempts are used up.
retry() {
    what=$1; shift
    n=1
    delay=$BACKOFF
    while :; do
        "$@"
        rc=$?
        [ "$rc" -eq 255 ] || return "$rc"
        reason=$(ssh_reason)
        if [ "$n" -ge "$ATTEMPTS" ]; then
            log "$what: the login node $TARGET:$PORT stayed unreachable after $n attempts" \
                "(${reason:-connection lost})"
            return 69
        fi
        log "$what: cannot reach $TARGET:$PORT (${reason:-connection lost});" \
            "attempt $((n + 1)) of $ATTEMPTS in ${delay}s"
        pause "$delay"
        n=$((n + 1))
        delay=$((delay * 2))
        [ "$delay" -le 60 ] || delay=60
    done
}

must() {  # STATUS MESSAGE: go on after 0; stop with 69 (unreachable, already said) or 1 and the message
    [ "$1" -eq 0 ] && return 0
    [ "$1" -eq 69 ] && exit 69
    shift
    die 1 "$*"
}

field() { sed -n "s|^argo-migrate-$1=||p" "$2" | tail -n 1; }

write_results() {  # JOB-ID STATE EXIT-CODE: the step's output parameters
    mkdir -p "$RESULTS" 2>/dev/null || return 0
    printf '%s' "$1" > "$RESULTS/job-id"
    printf '%s' "$2" > "$RESULTS/job-state"
    printf '%s' "$3" > "$RESULTS/exit-code"
}

# --- remote scripts (run by the login user's shell in the work folder) ------------------------------------------

QNAME=$(q "$NAME")
QDIR=$(q "$DIR")
# shellcheck disable=SC2016 # expanded by the remote shell
ME='"$(id -un)"'
ACTIVE='PENDING|RUNNING|SUSPENDED|COMPLETING|CONFIGURING|REQUEUE*|RESIZING|STOPPED|SIGNALING|STAGE_OUT|RESV_DEL_HOLD'

# What the controller (or accounting) says about job $id, and the tail of its output file.
REPORT="log=
id=\$(cat .argo-migrate-job 2>/dev/null)
echo \"argo-migrate-job=\$id\"
echo \"argo-migrate-rc=\$(cat .argo-migrate-rc 2>/dev/null)\"
[ -d $(q "$OUTREL") ] && echo argo-migrate-outputs=yes
if [ -n \"\$id\" ]; then
  set -f
  info=\$(scontrol -o show job \"\$id\" 2>/dev/null)
  if [ -n \"\$info\" ]; then
    for f in \$info; do
      case \$f in JobState=*|ExitCode=*) echo \"argo-migrate-\$f\";; StdOut=*) log=\${f#StdOut=};; esac
    done
  else
    sacct -n -X -P -j \"\$id\" -o State,ExitCode 2>/dev/null | head -n 1 |
      { IFS='|' read -r s e && echo \"argo-migrate-JobState=\${s%% *}\" && echo \"argo-migrate-ExitCode=\$e\"; }
  fi
  log=\${log:-slurm-\$id.out}
  if [ -s \"\$log\" ]; then echo \"--- the end of \$log\" >&2; tail -n 40 \"\$log\" >&2; fi
fi
if [ -s .argo-migrate-command.log ]; then
  echo '--- the end of the command output' >&2; tail -n 200 .argo-migrate-command.log >&2
fi"

PREPARE="mkdir -p $QDIR && cd $QDIR || exit 97
if [ -e .argo-migrate-submitted ]; then echo argo-migrate-submitted=yes; fi
if command -v rsync >/dev/null 2>&1; then echo argo-migrate-rsync=yes; fi"

sbatch_options() {
    printf ' --parsable --wait --job-name=%s' "$QNAME"
    [ -z "${AM_PARTITION:-}" ] || printf ' --partition=%s' "$(q "$AM_PARTITION")"
    [ -z "${AM_ACCOUNT:-}" ] || printf ' --account=%s' "$(q "$AM_ACCOUNT")"
    [ -z "${AM_TIME_LIMIT:-}" ] || printf ' --time=%s' "$(q "$AM_TIME_LIMIT")"
    # Extra sbatch options are shell words by design (several options, quoted as on a command line).
    [ -z "${AM_SBATCH_ARGS:-}" ] || printf ' %s' "$AM_SBATCH_ARGS"
}

RUN_JOB="cd $QDIR || exit 97
[ -e .argo-migrate-cancelled ] && exit 143
$UNPACK_SOURCES
: > .argo-migrate-submitted
rm -f .argo-migrate-rc .argo-migrate-job
{ sbatch$(sbatch_options) $SCRIPT_NAME; echo \$? > .argo-migrate-rc; } |
  { IFS=';' read -r id rest && [ -n \"\$id\" ] && echo \"\$id\" > .argo-migrate-job &&
    echo \"argo-migrate: submitted SLURM job \$id (name $NAME) in \$PWD\" >&2; cat > /dev/null; }
$REPORT"

RUN_COMMAND="cd $QDIR || exit 97
[ -e .argo-migrate-cancelled ] && exit 143
$UNPACK_SOURCES
: > .argo-migrate-submitted
rm -f .argo-migrate-rc
echo \"argo-migrate: running the command in \$PWD (output: .argo-migrate-command.log)\" >&2
setsid -w sh -c 'echo \$\$ > .argo-migrate-pid; exec sh -c \"\$1\"' argo-migrate $(q "${AM_COMMAND:-}") \\
  > .argo-migrate-command.log 2>&1 < /dev/null
echo \$? > .argo-migrate-rc
$REPORT"

# After a broken connection: the job (or command) submitted before, followed to its end.
ATTACH="cd $QDIR || exit 97
id=\$(cat .argo-migrate-job 2>/dev/null)
[ -n \"\$id\" ] || id=\$(squeue -h -u $ME -n $QNAME -o %i 2>/dev/null | head -n 1)
if [ -n \"\$id\" ]; then
  echo \"\$id\" > .argo-migrate-job
  echo \"argo-migrate: following SLURM job \$id\" >&2
  while [ ! -e .argo-migrate-rc ]; do
    case \$(squeue -h -j \"\$id\" -t all -o %T 2>/dev/null) in $ACTIVE) sleep 5 ;; *) break ;; esac
  done
elif [ -f .argo-migrate-pid ]; then
  pid=\$(cat .argo-migrate-pid)
  while [ ! -e .argo-migrate-rc ] && kill -0 \"\$pid\" 2>/dev/null; do sleep 5; done
elif [ ! -e .argo-migrate-rc ]; then
  echo argo-migrate-lost=yes
fi
$REPORT"

CANCEL="cd $QDIR 2>/dev/null || exit 0
: > .argo-migrate-cancelled
for round in 1 2; do
  scancel -u $ME -n $QNAME 2>/dev/null
  if [ -f .argo-migrate-pid ]; then kill -TERM -- -\"\$(cat .argo-migrate-pid)\" 2>/dev/null; fi
  [ \$round = 2 ] || sleep 1
done
squeue -h -t all -u $ME -n $QNAME -o 'argo-migrate-cancelled=%i %T' 2>/dev/null"

cancel_remote() {  # the stop path: a few quick attempts, within the pod's grace period
    ATTEMPTS=3
    BACKOFF=2
    retry "cancel" remote_once "$CANCEL" "$tmp/cancel.out"
    rc=$?
    sed -n 's|^argo-migrate-cancelled=|argo-migrate: after scancel: job |p' "$tmp/cancel.out" >&2 2>/dev/null
    return "$rc"
}

# --- the exit hook -------------------------------------------------------------------------------------------------

if [ "$MODE" = cancel ]; then
    if [ "${AM_STEP_STATUS:-}" = Succeeded ]; then
        log "the run step succeeded: nothing to cancel"
        exit 0
    fi
    log "the run step ended ${AM_STEP_STATUS:-without a status}: cancelling SLURM job $NAME on $TARGET"
    cancel_remote
    must $? "could not cancel job $NAME on $TARGET"
    exit 0
fi

# --- run -----------------------------------------------------------------------------------------------------------

stop() {
    trap '' TERM INT
    [ -z "$child" ] || kill "$child" 2>/dev/null
    log "stopped: cancelling SLURM job $NAME on $TARGET"
    cancel_remote || log "could not reach $TARGET to cancel $NAME; the exit hook will try again"
    write_results "$(sed -n 's|^argo-migrate-cancelled=\([0-9]*\).*|\1|p' "$tmp/cancel.out" 2>/dev/null |
        head -n 1)" CANCELLED 143
    exit 143
}
trap stop TERM INT

if [ -n "${AM_JOB_SCRIPT:-}" ] && [ -n "${AM_COMMAND:-}" ]; then
    die 64 "give either job-script or command, not both"
fi
[ -n "${AM_JOB_SCRIPT:-}${AM_COMMAND:-}" ] || die 64 "give job-script (an sbatch script) or command"
mkdir -p "$OUTPUTS" "$RESULTS" || die 1 "cannot create $OUTPUTS"
write_results "" "" ""

log "login node $TARGET:$PORT, work folder $DIR, job name $NAME"
retry "prepare" remote_once "$PREPARE" "$tmp/prepare.out"
must $? "cannot create $DIR on $TARGET"

upload_rsync() {
    : > "$tmp/ssh.log"
    set -- "$data/stage/"
    [ ! -d "$INPUTS" ] || set -- "$INPUTS/" "$@"
    rsync -rlpt -e "ssh $SSH_OPTS" "$@" "$TARGET:$DIR/" &
    child=$!
    wait "$child"
    rsync_status $?
}

rsync_status() {  # rsync's exit code, its network failures (10, 12, 30, 35, 255) as ssh's 255
    child=
    if [ "$1" -ne 0 ] && refused; then
        die 77 "the login node $TARGET:$PORT refused the credentials of the Secret slurm-ssh ($(ssh_reason))"
    fi
    case $1 in 10|12|30|35|255) return 255 ;; esac
    return "$1"
}

upload_tar() {
    remote_once "cd $QDIR && tar xf -" "$tmp/upload.out" "$data/inputs.tar"
}

if [ "$(field submitted "$tmp/prepare.out")" = yes ]; then
    log "a job was already submitted from $DIR (an earlier attempt of this step): following it"
    attach=yes
else
    attach=no
    data=$(mktemp -d "$DATA_DIR/am-slurm-data.XXXXXX") || die 1 "cannot create a temporary folder"
    mkdir -p "$data/stage"
    [ -z "${AM_JOB_SCRIPT:-}" ] || printf '%s\n' "$AM_JOB_SCRIPT" > "$data/stage/$SCRIPT_NAME"
    if [ -n "$SOURCES_DIR" ] && [ -r "$SOURCES_DIR/argo-migrate-index.json" ]; then
        # A ConfigMap's keys are links into its hidden ..data folder: the files themselves, not the links.
        mkdir -p "$data/stage/.argo-migrate-sources"
        for f in "$SOURCES_DIR"/*; do
            cp -L "$f" "$data/stage/.argo-migrate-sources/" || die 1 "cannot read the sources at $SOURCES_DIR"
        done
        printf '%s\n' "${AM_UNPACK:-}" > "$data/stage/.argo-migrate-unpack.py"
        log "the sources bundle goes along ($(find "$data/stage/.argo-migrate-sources" -type f | wc -l | tr -d ' ')" \
            "files), laid out on the login node"
    fi
    files=0
    [ ! -d "$INPUTS" ] || files=$(find "$INPUTS" -type f | wc -l | tr -d ' ')
    if command -v rsync >/dev/null 2>&1 && [ "$(field rsync "$tmp/prepare.out")" = yes ]; then
        transfer=rsync
    else
        transfer="tar through ssh"
    fi
    log "copying the inputs ($files files) and the job script to $TARGET:$DIR with $transfer"
    if [ "$transfer" = rsync ]; then
        retry "copy inputs" upload_rsync
        must $? "copying the inputs to $TARGET:$DIR failed"
    else
        [ ! -d "$INPUTS" ] || cp -R "$INPUTS/." "$data/stage/" || die 1 "cannot read the inputs at $INPUTS"
        (cd "$data/stage" && tar cf "$data/inputs.tar" .) || die 1 "cannot pack the inputs"
        retry "copy inputs" upload_tar
        must $? "copying the inputs to $TARGET:$DIR failed"
    fi
fi

if [ "$attach" = no ]; then
    if [ -n "${AM_JOB_SCRIPT:-}" ]; then run=$RUN_JOB; else run=$RUN_COMMAND; fi
    remote_once "$run" "$tmp/run.out"
    rc=$?
    [ "$rc" -ne 97 ] || die 1 "the work folder $DIR vanished on $TARGET"
    [ "$rc" -ne 96 ] || die 1 "the sources could not be laid out in $DIR on $TARGET (it needs python3; see above)"
    if [ "$rc" -eq 255 ]; then
        log "the connection to $TARGET broke while waiting ($(ssh_reason)): reconnecting to follow job $NAME"
        attach=yes
    fi
fi
if [ "$attach" = yes ]; then
    retry "follow the job" remote_once "$ATTACH" "$tmp/run.out"
    must $? "cannot follow job $NAME on $TARGET"
    [ "$(field lost "$tmp/run.out")" != yes ] ||
        die 70 "job $NAME was submitted but SLURM no longer knows it (its record expired while disconnected)"
fi

job=$(field job "$tmp/run.out")
printf '%s' "$job" > "$tmp/job-id"
state=$(field JobState "$tmp/run.out")
exitcode=$(field ExitCode "$tmp/run.out")
rc=$(field rc "$tmp/run.out")

if [ -n "${AM_JOB_SCRIPT:-}" ]; then
    if [ -z "$job" ]; then
        [ -n "$rc" ] && [ "$rc" != 0 ] || rc=1
        die "$rc" "sbatch did not accept the job (exit code $rc; its message is above)"
    fi
    code=${exitcode%%:*}
    signal=${exitcode#*:}
    if [ -z "$state" ]; then
        log "SLURM no longer reports job $job (no accounting, MinJobAge passed): using sbatch's exit code"
        state=UNKNOWN
        status=${rc:-1}
    elif [ "$state" = COMPLETED ] && [ "${code:-0}" = 0 ]; then
        status=0
    elif [ -n "$code" ] && [ "$code" != 0 ]; then
        status=$code
    elif [ -n "$signal" ] && [ "$signal" != 0 ] && [ "$signal" != "$exitcode" ]; then
        status=$((128 + signal))
    elif [ -n "$rc" ] && [ "$rc" != 0 ]; then
        status=$rc
    else
        status=1
    fi
    log "SLURM job $job ended: $state (exit code ${exitcode:-unknown}); step exit code $status"
else
    state=$([ "${rc:-1}" = 0 ] && echo COMPLETED || echo FAILED)
    status=${rc:-1}
    log "the command ended: exit code $status"
fi
write_results "$job" "$state" "$status"

download_rsync() {
    : > "$tmp/ssh.log"
    rsync -rlpt --exclude="/$OWN_FILES" --exclude="/$SCRIPT_NAME" -e "ssh $SSH_OPTS" "$TARGET:$DIR/$OUTREL/" \
        "$OUTPUTS/" &
    child=$!
    wait "$child"
    rsync_status $?
}

download_tar() {
    [ -n "$data" ] || data=$(mktemp -d "$DATA_DIR/am-slurm-data.XXXXXX") || return 1
    remote_once "cd $QDIR && cd $(q "$OUTREL") && tar cf - $(q "--exclude=./$OWN_FILES") --exclude=./$SCRIPT_NAME ." \
        "$data/outputs.tar" &&
        tar xf "$data/outputs.tar" -C "$OUTPUTS"
}

if [ "$(field outputs "$tmp/run.out")" = yes ]; then
    if command -v rsync >/dev/null 2>&1 && [ "$(field rsync "$tmp/prepare.out")" = yes ]; then
        transfer=rsync
        retry "copy outputs" download_rsync
    else
        transfer="tar through ssh"
        retry "copy outputs" download_tar
    fi
    copied=$?
    if [ "$copied" -ne 0 ]; then
        log "copying $DIR/$OUTREL back failed (exit code $copied)"
        [ "$status" -ne 0 ] || status=1
        write_results "$job" "$state" "$status"
    else
        log "copied $DIR/$OUTREL back with $transfer ($(find "$OUTPUTS" -type f | wc -l | tr -d ' ') files)"
    fi
elif [ "$status" -eq 0 ]; then
    log "the job left no $OUTREL folder in $DIR: the outputs artifact is empty"
fi
exit "$status"
