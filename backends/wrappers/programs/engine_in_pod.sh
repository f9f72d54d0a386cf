#!/bin/sh
# argo-migrate engine-in-pod: one whole Snakemake, cwltool or Nextflow run in this pod, in a folder of the
# shared volume mounted at /workspace. The engine is exec'd: it leads the process group Argo signals on stop
# (SIGTERM reaches it and its running jobs, and its own handler cleans up), and its exit status is the step's.
#
# Input (environment): ENGINE, DIRECTORY (relative to the volume), WORKFLOW (entry file; empty: the engine's
# default), INPUTS (cwltool's job order, Snakemake's --configfile, Nextflow's -params-file; may be empty),
# OUTPUTS (the output folder, cwltool's --outdir), CORES (Snakemake's --cores), ARGS (more engine arguments,
# split on blanks, never globbed), SOURCES (a source bundle's ConfigMap, mounted at SOURCES_DIR; may be empty),
# UNPACK (the program laying a bundle out: unpack_sources.py).
set -eu

object=/tmp/argo-migrate/output-object.json
mkdir -p /tmp/argo-migrate
: > "$object"
mkdir -p "/workspace/$DIRECTORY"
# The workflow's sources, shipped as a ConfigMap: laid out in its folder, where the engine reads them.
[ -z "${SOURCES:-}" ] || python3 -c "$UNPACK" "$SOURCES_DIR" "/workspace/$DIRECTORY"
cd "/workspace/$DIRECTORY"
set -f
# shellcheck disable=SC2086 # ARGS is a list of words on purpose
case "$ENGINE" in
  snakemake)
    set -- --cores "$CORES"
    [ -n "$WORKFLOW" ] && set -- "$@" --snakefile "$WORKFLOW"
    [ -n "$INPUTS" ] && set -- "$@" --configfile "$INPUTS"
    exec snakemake "$@" $ARGS
    ;;
  cwltool)
    if [ -z "$WORKFLOW" ]; then
      echo "engine-in-pod: cwltool needs the workflow parameter (the .cwl file)" >&2
      exit 2
    fi
    # No container runtime inside a pod: the tools run in this image (--no-container). stdout is cwltool's
    # output object, the step's output-object parameter; its log goes to stderr.
    set -- --no-container --outdir "$OUTPUTS" $ARGS "$WORKFLOW"
    [ -n "$INPUTS" ] && set -- "$@" "$INPUTS"
    exec cwltool "$@" > "$object"
    ;;
  nextflow)
    set -- run "${WORKFLOW:-main.nf}" -ansi-log false
    [ -n "$INPUTS" ] && set -- "$@" -params-file "$INPUTS"
    exec nextflow "$@" $ARGS
    ;;
  *)
    echo "engine-in-pod: unknown engine '$ENGINE' (snakemake, cwltool or nextflow)" >&2
    exit 2
    ;;
esac
