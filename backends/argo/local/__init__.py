"""``argo-migrate run --local``: run an Argo manifest on this machine with Argo's semantics, to verify behaviour.

A verifier, not a production engine. Modules, one job each:

- :mod:`~backends.argo.local.preflight`: lint the manifest first (``argo-migrate lint``'s checks); errors stop the run;
- :mod:`~backends.argo.local.model`: load a manifest, pick the workflow spec, check templates and DAGs statically;
- :mod:`~backends.argo.local.expressions`: evaluating ``depends`` (parsed by ``backends.argo.manifest_model``, as
  lint parses it), govaluate-style ``when``, ``{{= …}}`` tags;
- :mod:`~backends.argo.local.templating`: ``{{…}}`` substitution over a scope of variables;
- :mod:`~backends.argo.local.paths`: the per-node path mapping (declared container paths → run folder);
- :mod:`~backends.argo.local.executors`: one function per leaf template type (container, script, suspend…);
- :mod:`~backends.argo.local.engine`: DAG and steps scheduling, retries, deadlines, exit handlers, phases;
- :mod:`~backends.argo.local.report`: the ``run.json`` contract;
- :mod:`~backends.argo.local.cli`: the command's options and exit status.
"""
