#!/bin/sh
# Installs what tests/engines/slurm.py starts: SLURM (slurmctld, slurmd, the client commands), munge, sshd, rsync.
# Idempotent and quiet when everything is there, so `make test` can call it every time; the packages' own services
# are never started (the tests start private instances on 127.0.0.1 under a temporary folder).
set -eu
missing=""
for pair in slurmctld:slurm-wlm slurmd:slurm-wlm sbatch:slurm-client munged:munge sshd:openssh-server \
            rsync:rsync; do
    command=${pair%%:*}
    package=${pair#*:}
    if ! command -v "$command" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$command" ]; then
        case " $missing " in *" $package "*) ;; *) missing="$missing $package" ;; esac
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "install_slurm.sh: missing$missing; run as root (or: apt-get install -y slurm-wlm munge openssh-server rsync)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the packages' postinst scripts must not start system-wide daemons on this machine.
policy=/usr/sbin/policy-rc.d
created=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created=yes
fi
trap 'if [ -n "$created" ]; then rm -f "$policy"; fi' EXIT
if ! apt-get install -y -o DPkg::Lock::Timeout=300 --no-install-recommends slurm-wlm munge openssh-server rsync >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -o DPkg::Lock::Timeout=300 --no-install-recommends slurm-wlm munge openssh-server rsync >/dev/null
fi
