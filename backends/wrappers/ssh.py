"""The ssh wrapper: one command on a remote host, from a pod, with the credentials of a mounted Secret.

The Secret (``payload["secret"]``) holds ``host``, ``login`` and ``private_key``; it is mounted read-only and the
key is copied with mode 0600, because ssh refuses a key that others may read. Host keys are accepted on first use
(``StrictHostKeyChecking=accept-new``): pin them by adding a ``known_hosts`` key to the Secret.
"""

from __future__ import annotations

import shlex

from backends.wrappers import SecretMount, WrapperOptions, WrapperSpec
from migrator.ir import Wrapped

MOUNT = "/etc/argo-migrate/ssh"


def build(action: Wrapped, options: WrapperOptions) -> WrapperSpec:
    command = action.get("command")
    script = (
        "set -eu\n"
        f"install -m 600 {MOUNT}/private_key /tmp/id_key\n"
        f"known=''; if [ -f {MOUNT}/known_hosts ]; then known='-o UserKnownHostsFile={MOUNT}/known_hosts'; fi\n"
        f'exec ssh -i /tmp/id_key -o StrictHostKeyChecking=accept-new $known "$(cat {MOUNT}/login)@$(cat '
        f'{MOUNT}/host)" {shlex.quote(command)}\n'
    )
    return WrapperSpec(
        image=options.ssh_image,
        command=("sh", "-c"),
        args=(script,),
        secrets=(SecretMount("ssh-credentials", action.get("secret"), MOUNT),),
    )
