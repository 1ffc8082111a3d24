#!/usr/bin/env bash
# Smoke test of a deployed batchplane endpoint with hand-signed Shared Key requests (curl +
# node's crypto, no npm packages). It checks what the local tests cannot: that the hosting
# front end leaves the raw URL and the signed headers alone.
#
#   BATCHPLANE_ACCOUNT_KEY=... infra/azure/smoke.sh https://<app>.azurewebsites.net [account-name]
#
# Exit status 0 when every check passed. See docs/deploy.md, "Not yet verified on Azure".
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: infra/azure/smoke.sh ENDPOINT [ACCOUNT_NAME]

  ENDPOINT       Batch endpoint, e.g. https://myapp.azurewebsites.net (no path)
  ACCOUNT_NAME   Batch account name (default: $BATCHPLANE_ACCOUNT_NAME, else batchplane)

Environment:
  BATCHPLANE_ACCOUNT_KEY       the account key (base64); required
  BATCHPLANE_SMOKE_RETRIES     attempts of the first request while the app starts (default 12)

Checks:
  1. unsigned GET /supportedimages      -> 401 AuthenticationFailed (routes sit at the host root)
  2. signed GET /supportedimages        -> 200, and odata.metadata starts with ENDPOINT
                                           (the URL the app sees is the public one: next links)
  3. signed GET of a task file whose name holds %2F and %20
                                        -> 404 with a Batch error code other than
                                           AuthenticationFailed (raw URL reaches the handler)
EOF
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  '') usage >&2; exit 2 ;;
esac

ENDPOINT=${1%/}
ACCOUNT=${2:-${BATCHPLANE_ACCOUNT_NAME:-batchplane}}
KEY=${BATCHPLANE_ACCOUNT_KEY:-}
RETRIES=${BATCHPLANE_SMOKE_RETRIES:-12}
API_VERSION=2022-10-01.16.0

[[ -n $KEY ]] || { echo "smoke.sh: set BATCHPLANE_ACCOUNT_KEY" >&2; exit 2; }
[[ $ENDPOINT =~ ^https?://[^/]+$ ]] || { echo "smoke.sh: ENDPOINT must be scheme://host[:port] with no path: $ENDPOINT" >&2; exit 2; }
for tool in curl node; do
  command -v "$tool" >/dev/null || { echo "smoke.sh: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }

# Shared Key signature of a body-less GET with only ocp-date and the api-version query
# parameter, byte-exact with shared/api/sharedkey.ts (and with what az batch sends).
# The key and the string to sign go through the environment, never the command line.
signature() { # $1 raw path (still %-encoded), $2 ocp-date
  local sts
  sts=$(printf 'GET\n\n\n\n\n\n\n\n\n\n\n\nocp-date:%s\n/%s%s\napi-version:%s' "$2" "$ACCOUNT" "$1" "$API_VERSION")
  BP_KEY=$KEY BP_STS=$sts node -e '
    const { createHmac } = require("node:crypto");
    process.stdout.write(createHmac("sha256", Buffer.from(process.env.BP_KEY, "base64")).update(process.env.BP_STS, "utf8").digest("base64"));'
}

# GET ENDPOINT$1?api-version=…; $2 = signed|unsigned. Prints the status; the body is in $work/body.
request() {
  local path=$1 mode=$2 date sig
  local args=(-sS --path-as-is --max-time 60 -o "$work/body" -w '%{http_code}')
  if [[ $mode == signed ]]; then
    date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
    sig=$(signature "$path" "$date")
    args+=(-H "ocp-date: $date" -H "authorization: SharedKey $ACCOUNT:$sig")
  fi
  rm -f "$work/body"
  local got
  got=$(curl "${args[@]}" "$ENDPOINT$path?api-version=$API_VERSION") || true
  printf '%s' "${got:-000}"
}

# The first request may meet a cold start or a host restarting after the deployment.
status=000
for ((i = 1; i <= RETRIES; i++)); do
  status=$(request /supportedimages unsigned)
  [[ $status =~ ^(000|5..)$ && $i -lt $RETRIES ]] || break
  echo "      (attempt $i: status $status, waiting for the app to start)"
  sleep 10
done
if [[ $status == 401 ]] && grep -q '"AuthenticationFailed"' "$work/body"; then
  pass "unsigned GET /supportedimages -> 401 AuthenticationFailed"
else
  fail "unsigned GET /supportedimages -> $status (want 401 AuthenticationFailed): $(head -c 300 "$work/body" 2>/dev/null)"
fi

signed_ok=false
status=$(request /supportedimages signed)
if [[ $status == 200 ]]; then
  signed_ok=true
  pass "signed GET /supportedimages -> 200"
  metadata=$(BP_FILE="$work/body" node -e 'process.stdout.write(String(JSON.parse(require("node:fs").readFileSync(process.env.BP_FILE, "utf8"))["odata.metadata"] ?? ""))' 2>/dev/null || true)
  if [[ $metadata == "$ENDPOINT/"* ]]; then
    pass "odata.metadata uses the public URL ($metadata)"
  else
    fail "odata.metadata is '$metadata', not under $ENDPOINT: the app sees another URL (scheme/host), so odata.nextLink and resource urls will be wrong"
  fi
elif [[ $status == 403 ]]; then
  fail "signed GET /supportedimages -> 403: wrong account name or key (the app's BATCHPLANE_ACCOUNT_NAME/KEY), or the front end altered a signed header: $(head -c 300 "$work/body" 2>/dev/null)"
else
  fail "signed GET /supportedimages -> $status (want 200): $(head -c 300 "$work/body" 2>/dev/null)"
fi

# A file path with '/' and ' ' is sent by the official clients as ONE encoded segment.
file_path="/jobs/bp-smoke-no-such-job/tasks/t1/files/wd%2Fsub%20dir%2Fout.txt"
status=$(request "$file_path" signed)
code=$(BP_FILE="$work/body" node -e 'try { process.stdout.write(String(JSON.parse(require("node:fs").readFileSync(process.env.BP_FILE, "utf8")).code ?? "")) } catch { }' 2>/dev/null || true)
if [[ $status == 000 ]]; then
  fail "signed GET …/files/wd%2Fsub%20dir%2Fout.txt -> no response"
elif [[ $status == 404 && -n $code && $code != AuthenticationFailed ]]; then
  pass "signed GET …/files/wd%2Fsub%20dir%2Fout.txt -> 404 $code (raw URL intact)"
elif [[ $code == AuthenticationFailed && $signed_ok == false ]]; then
  fail "signed GET …/files/wd%2Fsub%20dir%2Fout.txt -> $status AuthenticationFailed, like every signed request here (check the account name and key first)"
elif [[ $code == AuthenticationFailed ]]; then
  fail "signed GET …/files/wd%2Fsub%20dir%2Fout.txt -> $status AuthenticationFailed: the front end changed the raw URL before the handler saw it"
else
  fail "signed GET …/files/wd%2Fsub%20dir%2Fout.txt -> $status, code '${code:-none}' (want 404 with a Batch error): the route did not match the encoded path"
fi

printf '%d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
