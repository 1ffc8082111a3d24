#!/usr/bin/env bash
# Deploys batchplane to Azure: the infrastructure (infra/azure/main.bicep), then the code as a
# zip package (dist/, host.json, package.json, package-lock.json, production node_modules),
# then a smoke test of the endpoint (infra/azure/smoke.sh). Run `deploy.sh --help`.
# Docs: docs/deploy.md.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
API_VERSION=2022-10-01.16.0
# shared/config.ts DEV_ACCOUNT_KEY: public, so never acceptable on a deployed endpoint.
DEV_ACCOUNT_KEY='YmF0Y2hwbGFuZS1sb2NhbC1kZXZlbG9wbWVudC1hY2NvdW50LWtleS0wMDAwMDAwMA=='

usage() {
  cat <<'EOF'
Usage: infra/azure/deploy.sh -g RESOURCE_GROUP [options]

Deploys batchplane to Azure in three steps:
  1. infrastructure: az deployment group create with infra/azure/main.bicep
     (Function App + plan, Storage, Event Hubs, Application Insights + Log Analytics)
  2. code: npm ci && npm run build, then a zip of dist/ host.json package.json
     package-lock.json and production node_modules (npm ci --omit=dev in a staging
     directory), uploaded with az functionapp deployment source config-zip
  3. smoke test: infra/azure/smoke.sh (signed requests through the real front end)
and prints the endpoint and how to use it with @azure/batch and az batch.

Options (each also read from the environment variable shown):
  -g, --resource-group NAME   AZURE_RESOURCE_GROUP      resource group (required; created if missing)
  -l, --location REGION       AZURE_LOCATION            region; required when the group does not exist
  -s, --subscription ID       AZURE_SUBSCRIPTION_ID     subscription (default: az's current one)
  -n, --name NAME             BATCHPLANE_APP_NAME       function app name, global (<name>.azurewebsites.net)
                                                        default: batchplane-<hash of subscription+group>
  -p, --plan flex|ep1         BATCHPLANE_PLAN           Flex Consumption (default) or Elastic Premium EP1
      --node-version 20|22    BATCHPLANE_NODE_VERSION   Functions Node.js version (default 20)
      --account-name NAME     BATCHPLANE_ACCOUNT_NAME   Batch account name (default batchplane)
      --account-key-file FILE BATCHPLANE_ACCOUNT_KEY_FILE  file holding the base64 account key
                              BATCHPLANE_ACCOUNT_KEY    the key itself (environment only, never a flag)
      --storage-prefix P      BATCHPLANE_STORAGE_PREFIX table/queue name prefix (default bp)
      --service-logs on|off   BATCHPLANE_SERVICE_LOGS   service logs to Event Hubs; default off (as on Azure)
      --what-if                                         preview the infrastructure changes (az deployment
                                                        group what-if) and stop
      --skip-infra                                      code only (the app must exist)
      --skip-code                                       infrastructure only
      --skip-smoke                                      no smoke test
      --package-only FILE                               build the zip into FILE and stop (no az)
      --dry-run                                         print the az/npm commands instead of running them
  -h, --help

Account key: if none is given, the key of an existing app is kept (read from its
BATCHPLANE_ACCOUNT_KEY setting); for a new app one is generated with
  openssl rand -base64 64 | tr -d '\n'
and saved (mode 600) to ${XDG_CONFIG_HOME:-~/.config}/batchplane/<app>.key.

Requirements: az (logged in; a recent version with Flex Consumption support and Bicep),
node 20+ and npm, zip, openssl, curl.
EOF
}

die() { printf 'deploy.sh: %s\n' "$*" >&2; exit 1; }
log() { printf '\n==> %s\n' "$*" >&2; }

DRY_RUN=false
# Runs a command, or prints it under --dry-run.
run() {
  if $DRY_RUN; then
    printf '[dry-run]' >&2
    printf ' %q' "$@" >&2
    printf '\n' >&2
  else
    "$@"
  fi
}
# run_in DIR COMMAND...: run COMMAND in DIR.
run_in() {
  local dir=$1
  shift
  if $DRY_RUN; then
    printf '[dry-run] (cd %q &&' "$dir" >&2
    printf ' %q' "$@" >&2
    printf ')\n' >&2
  else
    (cd "$dir" && "$@")
  fi
}

RESOURCE_GROUP=${AZURE_RESOURCE_GROUP:-}
LOCATION=${AZURE_LOCATION:-}
SUBSCRIPTION=${AZURE_SUBSCRIPTION_ID:-}
APP_NAME=${BATCHPLANE_APP_NAME:-}
PLAN=${BATCHPLANE_PLAN:-flex}
NODE_VERSION=${BATCHPLANE_NODE_VERSION:-20}
ACCOUNT_NAME=${BATCHPLANE_ACCOUNT_NAME:-batchplane}
ACCOUNT_KEY=${BATCHPLANE_ACCOUNT_KEY:-}
ACCOUNT_KEY_FILE=${BATCHPLANE_ACCOUNT_KEY_FILE:-}
STORAGE_PREFIX=${BATCHPLANE_STORAGE_PREFIX:-bp}
SERVICE_LOGS=${BATCHPLANE_SERVICE_LOGS:-off}
DO_INFRA=true
DO_CODE=true
DO_SMOKE=true
WHAT_IF=false
PACKAGE_ONLY=

need_value() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  opt=$1
  if [[ $opt == --*=* ]]; then
    set -- "${opt%%=*}" "${opt#*=}" "${@:2}"
    opt=$1
  fi
  case $opt in
    -g | --resource-group) need_value "$@"; RESOURCE_GROUP=$2; shift 2 ;;
    -l | --location) need_value "$@"; LOCATION=$2; shift 2 ;;
    -s | --subscription) need_value "$@"; SUBSCRIPTION=$2; shift 2 ;;
    -n | --name) need_value "$@"; APP_NAME=$2; shift 2 ;;
    -p | --plan) need_value "$@"; PLAN=$2; shift 2 ;;
    --node-version) need_value "$@"; NODE_VERSION=$2; shift 2 ;;
    --account-name) need_value "$@"; ACCOUNT_NAME=$2; shift 2 ;;
    --account-key-file) need_value "$@"; ACCOUNT_KEY_FILE=$2; shift 2 ;;
    --account-key) die "--account-key would show the key in the process list: use BATCHPLANE_ACCOUNT_KEY or --account-key-file" ;;
    --storage-prefix) need_value "$@"; STORAGE_PREFIX=$2; shift 2 ;;
    --service-logs) need_value "$@"; SERVICE_LOGS=$2; shift 2 ;;
    --what-if) WHAT_IF=true; shift ;;
    --skip-infra) DO_INFRA=false; shift ;;
    --skip-code) DO_CODE=false; shift ;;
    --skip-smoke) DO_SMOKE=false; shift ;;
    --package-only) need_value "$@"; PACKAGE_ONLY=$2; shift 2 ;;
    --dry-run) DRY_RUN=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option: $opt (see --help)" ;;
  esac
done

# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

case $PLAN in
  flex | FlexConsumption | fc1 | FC1) PLAN_TYPE=FlexConsumption ;;
  ep1 | EP1 | premium | ElasticPremium) PLAN_TYPE=ElasticPremium ;;
  *) die "--plan must be flex or ep1, not '$PLAN'" ;;
esac
[[ $NODE_VERSION =~ ^(20|22)$ ]] || die "--node-version must be 20 or 22"
[[ $ACCOUNT_NAME =~ ^[a-z0-9]{3,24}$ ]] || die "--account-name must be 3-24 lowercase letters and digits"
[[ $STORAGE_PREFIX =~ ^[a-z][a-z0-9]{0,19}$ ]] || die "--storage-prefix must be 1-20 lowercase letters and digits, starting with a letter"
[[ $SERVICE_LOGS =~ ^(on|off)$ ]] || die "--service-logs must be on or off"
if [[ -n $APP_NAME ]]; then
  [[ $APP_NAME =~ ^[A-Za-z0-9]([A-Za-z0-9-]{1,38}[A-Za-z0-9])$ ]] || die "--name must be 3-40 letters, digits and hyphens, not starting or ending with a hyphen"
fi
for tool in node npm zip openssl; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

MAIN_JS=$(cd "$REPO_ROOT" && node -p 'require("./package.json").main')

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Builds the deployment zip into $1: a fresh compile into a staging directory, then production
# dependencies from the lockfile (Linux x64 optional packages, whatever machine runs this).
build_package() {
  local zip_path=$1 stage="$WORK/stage"
  rm -rf "$stage"
  mkdir -p "$stage"
  log "Building ($REPO_ROOT)"
  run_in "$REPO_ROOT" npm ci --no-audit --no-fund
  # Compile straight into the staging directory, so no stale file of an old dist/ is shipped.
  run_in "$REPO_ROOT" npm run build -- --outDir "$stage/dist"
  cp "$REPO_ROOT/host.json" "$REPO_ROOT/package.json" "$REPO_ROOT/package-lock.json" "$stage/"
  log "Installing production dependencies (npm ci --omit=dev) in $stage"
  # --no-bin-links: no node_modules/.bin symlinks (the app never uses them; zip would follow them).
  run_in "$stage" npm ci --omit=dev --ignore-scripts --no-bin-links --os=linux --cpu=x64 --no-audit --no-fund
  if ! $DRY_RUN; then
    [[ -f $stage/$MAIN_JS ]] || die "the build did not produce $MAIN_JS (package.json main)"
    [[ -d $stage/node_modules/@azure/functions ]] || die "production node_modules lacks @azure/functions"
  fi
  log "Zipping to $zip_path"
  rm -f "$zip_path"
  run_in "$stage" zip -q -r "$zip_path" dist host.json package.json package-lock.json node_modules
  if ! $DRY_RUN; then
    printf '    %s (%s)\n' "$zip_path" "$(du -h "$zip_path" | cut -f1)" >&2
  fi
}

if [[ -n $PACKAGE_ONLY ]]; then
  [[ $PACKAGE_ONLY == /* ]] || PACKAGE_ONLY="$PWD/$PACKAGE_ONLY"
  build_package "$PACKAGE_ONLY"
  exit 0
fi

[[ -n $RESOURCE_GROUP ]] || die "--resource-group is required (see --help)"
[[ -z $LOCATION || $LOCATION =~ ^[A-Za-z0-9\ ]+$ ]] || die "--location: unexpected region name '$LOCATION'"
command -v az >/dev/null || $DRY_RUN || die "the Azure CLI (az) is required"
if $DO_SMOKE; then
  command -v curl >/dev/null || die "curl is required for the smoke test (or pass --skip-smoke)"
fi

umask 077

# ---------------------------------------------------------------------------------------------
# Subscription, resource group, app name
# ---------------------------------------------------------------------------------------------

if $DRY_RUN; then
  SUBSCRIPTION_ID=${SUBSCRIPTION:-00000000-0000-0000-0000-000000000000}
else
  [[ -z $SUBSCRIPTION ]] || az account set --subscription "$SUBSCRIPTION"
  SUBSCRIPTION_ID=$(az account show --query id -o tsv) || die "not logged in: run az login"
fi
if [[ -z $APP_NAME ]]; then
  rg_lower=$(printf '%s' "$RESOURCE_GROUP" | tr '[:upper:]' '[:lower:]')
  APP_NAME="batchplane-$(printf '%s/%s' "$SUBSCRIPTION_ID" "$rg_lower" | openssl dgst -sha256 | awk '{print substr($NF, 1, 12)}')"
fi
log "Subscription $SUBSCRIPTION_ID, resource group $RESOURCE_GROUP, app $APP_NAME ($PLAN_TYPE, Node $NODE_VERSION)"

app_exists=false
if ! $DRY_RUN; then
  if [[ $(az group exists --name "$RESOURCE_GROUP") != true ]]; then
    [[ -n $LOCATION ]] || die "resource group $RESOURCE_GROUP does not exist: pass --location to create it"
    log "Creating resource group $RESOURCE_GROUP in $LOCATION"
    az group create --name "$RESOURCE_GROUP" --location "$LOCATION" --output none
  fi
  if az functionapp show --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" --output none 2>/dev/null; then
    app_exists=true
  fi
fi
$DO_INFRA || $app_exists || $DRY_RUN || die "app $APP_NAME does not exist in $RESOURCE_GROUP: run without --skip-infra first"

# ---------------------------------------------------------------------------------------------
# Account key
# ---------------------------------------------------------------------------------------------

KEY_NOTE=
if [[ -z $ACCOUNT_KEY && -n $ACCOUNT_KEY_FILE ]]; then
  [[ -r $ACCOUNT_KEY_FILE ]] || die "cannot read $ACCOUNT_KEY_FILE"
  ACCOUNT_KEY=$(tr -d ' \r\n' <"$ACCOUNT_KEY_FILE")
  KEY_NOTE="from $ACCOUNT_KEY_FILE"
fi
if [[ -z $ACCOUNT_KEY ]] && $app_exists; then
  ACCOUNT_KEY=$(az functionapp config appsettings list --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
    --query "[?name=='BATCHPLANE_ACCOUNT_KEY'].value | [0]" --output tsv)
  [[ -z $ACCOUNT_KEY ]] || KEY_NOTE="kept from the app's BATCHPLANE_ACCOUNT_KEY setting"
fi
if [[ -z $ACCOUNT_KEY ]]; then
  key_dir="${XDG_CONFIG_HOME:-$HOME/.config}/batchplane"
  key_file="$key_dir/$APP_NAME.key"
  if [[ -s $key_file ]]; then
    ACCOUNT_KEY=$(tr -d ' \r\n' <"$key_file")
    KEY_NOTE="from $key_file"
  else
    # openssl wraps base64 at 64 characters: strip the newline (the app requires one base64 token).
    ACCOUNT_KEY=$(openssl rand -base64 64 | tr -d '\n')
    if ! $DRY_RUN; then
      mkdir -p "$key_dir"
      printf '%s\n' "$ACCOUNT_KEY" >"$key_file"
      chmod 600 "$key_file"
    fi
    KEY_NOTE="generated and saved to $key_file"
    if $DRY_RUN; then KEY_NOTE="generated (dry run: not saved)"; fi
  fi
fi
[[ $ACCOUNT_KEY =~ ^[A-Za-z0-9+/]+={0,2}$ ]] || die "the account key must be one base64 token (openssl rand -base64 64 | tr -d '\\n')"
[[ $ACCOUNT_KEY != "$DEV_ACCOUNT_KEY" ]] || die "refusing the public local-development key: generate one with openssl rand -base64 64 | tr -d '\\n'"
key_bytes=$(printf '%s' "$ACCOUNT_KEY" | openssl base64 -d -A | wc -c | tr -d ' ')
[[ $key_bytes -ge 32 ]] || die "the account key decodes to $key_bytes bytes; use at least 32 (openssl rand -base64 64)"
printf '    account key: %s\n' "$KEY_NOTE" >&2

# ---------------------------------------------------------------------------------------------
# 1. Infrastructure
# ---------------------------------------------------------------------------------------------

if $DO_INFRA; then
  # Parameters go through a private file, so the key never appears on a command line.
  params="$WORK/parameters.json"
  cat >"$params" <<EOF
{
  "\$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "appName": { "value": "$APP_NAME" },
    "planType": { "value": "$PLAN_TYPE" },
    "nodeVersion": { "value": "$NODE_VERSION" },
    "accountName": { "value": "$ACCOUNT_NAME" },
    "accountKey": { "value": "$ACCOUNT_KEY" },
    "storagePrefix": { "value": "$STORAGE_PREFIX" },
    "serviceLogs": { "value": "$SERVICE_LOGS" }
  }
}
EOF
  location_args=()
  [[ -z $LOCATION ]] || location_args=(--parameters "location=$LOCATION")
  deployment="batchplane-$(date -u +%Y%m%d%H%M%S)"
  if $WHAT_IF; then
    log "Previewing infrastructure changes (what-if)"
    run az deployment group what-if \
      --resource-group "$RESOURCE_GROUP" \
      --name "$deployment" \
      --template-file "$SCRIPT_DIR/main.bicep" \
      --parameters "@$params" ${location_args[@]+"${location_args[@]}"}
    exit 0
  fi
  log "Deploying infrastructure (deployment $deployment)"
  run az deployment group create \
    --resource-group "$RESOURCE_GROUP" \
    --name "$deployment" \
    --template-file "$SCRIPT_DIR/main.bicep" \
    --parameters "@$params" ${location_args[@]+"${location_args[@]}"} \
    --output none
fi

ENDPOINT="https://$APP_NAME.azurewebsites.net"
if ! $DRY_RUN; then
  ENDPOINT=$(az functionapp config appsettings list --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
    --query "[?name=='BATCHPLANE_PUBLIC_URL'].value | [0]" --output tsv)
  [[ -n $ENDPOINT ]] || die "the app has no BATCHPLANE_PUBLIC_URL setting: was it deployed with main.bicep?"
fi

# ---------------------------------------------------------------------------------------------
# 2. Code
# ---------------------------------------------------------------------------------------------

if $DO_CODE; then
  zip_path="$WORK/batchplane.zip"
  build_package "$zip_path"
  log "Uploading the package to $APP_NAME"
  run az functionapp deployment source config-zip \
    --resource-group "$RESOURCE_GROUP" \
    --name "$APP_NAME" \
    --src "$zip_path" \
    --output none
fi

# ---------------------------------------------------------------------------------------------
# 3. Smoke test
# ---------------------------------------------------------------------------------------------

smoke_status="skipped"
if $DO_SMOKE && ! $DRY_RUN; then
  log "Smoke test of $ENDPOINT"
  if BATCHPLANE_ACCOUNT_KEY=$ACCOUNT_KEY "$SCRIPT_DIR/smoke.sh" "$ENDPOINT" "$ACCOUNT_NAME"; then
    smoke_status="passed"
  else
    smoke_status="FAILED (see above and docs/deploy.md, 'Not yet verified on Azure')"
  fi
fi

# ---------------------------------------------------------------------------------------------
# How to use it
# ---------------------------------------------------------------------------------------------

if $DRY_RUN; then done_line="Dry run finished: nothing was deployed."; else done_line="batchplane is deployed."; fi
cat <<EOF

$done_line
  Batch endpoint:  $ENDPOINT
  Account name:    $ACCOUNT_NAME
  Account key:     $KEY_NOTE; read it back with
                   az functionapp config appsettings list -g $RESOURCE_GROUP -n $APP_NAME \\
                     --query "[?name=='BATCHPLANE_ACCOUNT_KEY'].value | [0]" -o tsv
  Smoke test:      $smoke_status

Use it like an Azure Batch account (api-version $API_VERSION):

  export BATCH_URL=$ENDPOINT BATCH_ACCOUNT_NAME=$ACCOUNT_NAME
  export BATCH_ACCOUNT_KEY=\$(az functionapp config appsettings list -g $RESOURCE_GROUP -n $APP_NAME \\
      --query "[?name=='BATCHPLANE_ACCOUNT_KEY'].value | [0]" -o tsv)

  # az CLI
  az batch pool list --account-endpoint "\$BATCH_URL" --account-name "\$BATCH_ACCOUNT_NAME" --account-key "\$BATCH_ACCOUNT_KEY"
  az batch job create --id job1 --pool-id pool1 --account-endpoint "\$BATCH_URL" --account-name "\$BATCH_ACCOUNT_NAME" --account-key "\$BATCH_ACCOUNT_KEY"

  // @azure/batch (Node)
  const { BatchServiceClient, BatchSharedKeyCredentials } = require('@azure/batch');
  const client = new BatchServiceClient(
    new BatchSharedKeyCredentials(process.env.BATCH_ACCOUNT_NAME, process.env.BATCH_ACCOUNT_KEY),
    process.env.BATCH_URL);               // the bare host: no /api or any other path
  client.pool.list().then((pools) => console.log(pools.map((p) => p.id)));

Compute nodes are not created by this deployment: see docs/deploy.md, "Compute nodes".
EOF
