#!/usr/bin/env bash
# Regenerates Tests/HuaweiCloudTests/Fixtures/python-sdk-signatures.json: signatures the official Python SDK
# (huaweicloudsdkcore 3.1.219, from PyPI) computes for fixed requests, which HuaweiCloudTests re-signs and compares.
#
# Environment: SDK_SIGNATURE_VENV (default: ${XDG_CACHE_HOME:-$HOME/.cache}/unwind/sdk-signature-venv-3.1.219),
#              PYTHON (default: python3).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sdk_version="3.1.219"
venv="${SDK_SIGNATURE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/unwind/sdk-signature-venv-$sdk_version}"
python="${PYTHON:-python3}"
fixture="$root/Tests/HuaweiCloudTests/Fixtures/python-sdk-signatures.json"

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import huaweicloudsdkcore" 2>/dev/null; then
    echo "creating SDK venv in $venv" >&2
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "huaweicloudsdkcore==$sdk_version"
fi

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
"$venv/bin/python" "$root/scripts/sdk-signatures/generate_sdk_signature_vectors.py" >"$tmp"
mv "$tmp" "$fixture"
trap - EXIT
echo "wrote $fixture" >&2
