#!/bin/sh
# argo-migrate snakemake-job: exactly one job of a Snakemake workflow, run by Snakemake in this pod, as Snakemake's
# own executors run a job they spawn (its --target-jobs, --allowed-rules, --force, --nolock, --mode subprocess).
#
# Input (environment): AM_FILE (the Snakefile, relative to the workflow's folder), AM_TARGET (the job:
# RULE:WILDCARD=VALUE,...), AM_RULE, AM_CORES, AM_SDM (blank or conda / env-modules, Snakemake's --sdm),
# AM_CONFIGFILES and AM_CONFIG (--configfiles, --config: words split on blanks), AM_ARGS (more Snakemake
# arguments, split on blanks, never globbed), AM_DIRECTORY (the workflow's folder, relative to the volume),
# AM_WORKSPACE (the volume), AM_SOURCES (the mounted source bundle), AM_UNPACK (the program that lays it out).
#
# The workflow's sources are laid out in the workflow's folder first (files already there are kept: see
# unpack_sources.py). Snakemake is exec'd: it leads the process group Argo signals on stop, so SIGTERM reaches it
# and the job it runs, and its exit status (1 when the job fails) is the step's.
set -eu

die() { code=$1; shift; printf 'argo-migrate: %s\n' "$*" >&2; exit "$code"; }

[ -n "${AM_FILE:-}" ] || die 64 "parameter file is empty: name the Snakefile"
[ -n "${AM_TARGET:-}" ] || die 64 "parameter target is empty: name the job (RULE:WILDCARD=VALUE,...)"
rule=${AM_RULE:-${AM_TARGET%%:*}}
target=$AM_TARGET
case $target in *:*) ;; *) target="$target:" ;; esac  # a job without wildcards: Snakemake wants the colon

folder="$AM_WORKSPACE/${AM_DIRECTORY:-.}"
mkdir -p "$folder"
python3 -c "$AM_UNPACK" "$AM_SOURCES" "$folder"
cd "$folder"
[ -f "$AM_FILE" ] || die 66 "the Snakefile $AM_FILE is neither in the source bundle nor in $folder"

set -f
# shellcheck disable=SC2086 # the word lists are split on blanks on purpose
set -- --snakefile "$AM_FILE" --directory "$folder" --target-jobs "$target" --allowed-rules "$rule" \
    --cores "${AM_CORES:-1}" --force --nolock --notemp --no-hooks --ignore-incomplete --nocolor \
    --mode subprocess
[ -z "${AM_SDM:-}" ] || set -- "$@" --sdm $AM_SDM
[ -z "${AM_CONFIGFILES:-}" ] || set -- "$@" --configfiles $AM_CONFIGFILES
[ -z "${AM_ARGS:-}" ] || set -- "$@" $AM_ARGS
[ -z "${AM_CONFIG:-}" ] || set -- "$@" --config $AM_CONFIG  # last: --config takes every word after it
printf 'argo-migrate: snakemake %s\n' "$*" >&2
exec snakemake "$@"
