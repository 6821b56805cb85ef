#!/usr/bin/env bash
# Creates the secret files compose.yaml mounts, in deploy/compose/secrets/, unless they exist: random database
# passwords and API token, and cloud credentials for the simulator's sample account (its public demo keys,
# read from deploy/cloudsim/seeds/sample.json). For the real cloud, replace secrets/cloud-credentials.
#
# Modes: the directory is 0700 (only you reach the files on this host); the files are 0644 because compose
# bind-mounts them with their host mode and owner, and both the postgres (uid 999) and unwind (uid 10001)
# containers must read them. Unwind accepts that inside CREDENTIALS_DIRECTORY=/run/secrets.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$here/secrets"
seed="$here/../cloudsim/seeds/sample.json"
install -d -m 0700 "$dir"

random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
make() {
    local name="$1" content="$2"
    if [ -e "$dir/$name" ]; then
        echo "kept    $dir/$name"
    else
        printf '%s\n' "$content" > "$dir/$name"
        chmod 0644 "$dir/$name"
        echo "created $dir/$name"
    fi
}

make postgres-password "$(random)"
make db-owner-password "$(random)"
make db-worker-password "$(random)"
make api-token "$(random)"
keys="$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["accounts"][0]; print(a["access_key"], a["secret_key"])' "$seed")"
make cloud-credentials "$(printf '[default]\nak = %s\nsk = %s\n\n[demo]\nak = %s\nsk = %s' ${keys} ${keys})"
