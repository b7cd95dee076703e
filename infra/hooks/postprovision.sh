#!/usr/bin/env bash
# azd post-provision hook (azure.yaml): the steps Bicep leaves to the deploying principal. Idempotent: run it again
# any time with `azd hooks run postprovision`. azd passes the provision outputs (infra/main.bicep) as environment
# variables; `az` must be signed in to the same tenant (`az login`).
#
#  1. Producer keys. For each producer in PRODUCER_IDS, a P-256 key of that name in the producer vault, created only
#     if missing (az keyvault key create --curve P-256). Their versioned key ids become the app settings
#     Producers__N__Id / Producers__N__Key (set here, before azd deploys the code, so the ledger's genesis registers
#     them) and the azd environment value BTMC_PRODUCER_KEY_IDS, from which every later `azd provision` sets the
#     same settings in Bicep.
#  2. Committee. When the committee vault holds the five members' keys (BTMC_COMMITTEE_PRINCIPAL_IDS) and
#     deploy/committee.json is still [], writes it: one {"member","publicKey"} per member, the member named after
#     their key (member-1 ... member-5). Commit it; azd deploys it with the code.
#  3. Worker package. Publishes the btmc CLI self-contained for linux-x64 and uploads it as
#     WORKER_PACKAGE_CONTAINER/WORKER_PACKAGE_BLOB, which the GPU pool's start task installs on every new node.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
  echo "postprovision: $*" >&2
  exit 1
}

for tool in az azd dotnet tar; do
  command -v "$tool" >/dev/null || fail "$tool is not on PATH (README.md, Deploy: prerequisites)."
done
for name in AZURE_RESOURCE_GROUP SERVICE_API_NAME KEYVAULT_PRODUCERS_NAME PRODUCER_IDS STORAGE_ACCOUNT_NAME \
  WORKER_PACKAGE_CONTAINER WORKER_PACKAGE_BLOB; do
  [[ -n "${!name:-}" ]] || fail "$name is not set; run this hook through azd (azd provision, azd hooks run postprovision)."
done
az account show >/dev/null 2>&1 || fail "az is not signed in: run az login (same tenant as azd auth login)."

# Role assignments made by the deployment take a few minutes to reach the data planes: retry what they refuse.
with_retries() {
  local attempt output
  for attempt in $(seq 1 20); do
    if output=$("$@" 2>&1); then
      printf '%s' "$output"
      return 0
    fi
    if [[ "$output" == *Forbidden* || "$output" == *AuthorizationPermissionMismatch* || "$output" == *AuthorizationFailure* ]]; then
      echo "postprovision: not yet authorized (role assignments propagating), retry $attempt/20 in 30 s" >&2
      sleep 30
      continue
    fi
    printf '%s\n' "$output" >&2
    return 1
  done
  printf '%s\n' "$output" >&2
  return 1
}

# ---------------------------------------------------------------- 1. producer keys
# The versioned id of a producer's key, or nothing when the vault has no such key.
producer_key_id() {
  local attempt output
  for attempt in $(seq 1 20); do
    if output=$(az keyvault key show --vault-name "$KEYVAULT_PRODUCERS_NAME" --name "$1" --query key.kid -o tsv 2>&1); then
      printf '%s' "$output"
      return 0
    fi
    case "$output" in
      *KeyNotFound*) return 0 ;;
      *Forbidden*)
        echo "postprovision: not yet authorized on $KEYVAULT_PRODUCERS_NAME, retry $attempt/20 in 30 s" >&2
        sleep 30
        ;;
      *)
        printf '%s\n' "$output" >&2
        return 1
        ;;
    esac
  done
  return 1
}

IFS=',' read -r -a producers <<<"$PRODUCER_IDS"
key_ids=()
settings=()
for i in "${!producers[@]}"; do
  producer=${producers[$i]}
  kid=$(producer_key_id "$producer") || fail "cannot read key $producer in $KEYVAULT_PRODUCERS_NAME."
  if [[ -z "$kid" ]]; then
    echo "postprovision: creating the P-256 key of producer $producer in $KEYVAULT_PRODUCERS_NAME"
    kid=$(with_retries az keyvault key create --vault-name "$KEYVAULT_PRODUCERS_NAME" --name "$producer" \
      --kty EC --curve P-256 --ops sign verify --query key.kid -o tsv) || fail "could not create key $producer."
  fi
  [[ "$kid" == https://*/keys/"$producer"/* ]] || fail "unexpected key id for $producer: '$kid'."
  key_ids+=("$kid")
  settings+=("Producers__${i}__Id=$producer" "Producers__${i}__Key=$kid")
done
joined=$(IFS=','; printf '%s' "${key_ids[*]}")

current=$(az functionapp config appsettings list -g "$AZURE_RESOURCE_GROUP" -n "$SERVICE_API_NAME" \
  --query "[?starts_with(name, 'Producers__')].[name, value]" -o tsv | sort) || fail "cannot read the app settings of $SERVICE_API_NAME."
wanted=$(for setting in "${settings[@]}"; do printf '%s\t%s\n' "${setting%%=*}" "${setting#*=}"; done | sort)
if [[ "$current" != "$wanted" ]]; then
  echo "postprovision: setting ${#producers[@]} producer(s) on $SERVICE_API_NAME"
  az functionapp config appsettings set -g "$AZURE_RESOURCE_GROUP" -n "$SERVICE_API_NAME" --settings "${settings[@]}" -o none
fi
if [[ "${BTMC_PRODUCER_KEY_IDS:-}" != "$joined" ]]; then
  azd env set BTMC_PRODUCER_KEY_IDS "$joined"
fi
echo "postprovision: producers ${PRODUCER_IDS} sign with keys in ${KEYVAULT_PRODUCERS_NAME}"

# ---------------------------------------------------------------- 2. committee
if [[ -n "${COMMITTEE_MEMBER_KEY_IDS:-}" ]]; then
  IFS=',' read -r -a member_keys <<<"$COMMITTEE_MEMBER_KEY_IDS"
  [[ ${#member_keys[@]} -eq 5 ]] || fail "the committee has exactly five members; BTMC_COMMITTEE_PRINCIPAL_IDS names ${#member_keys[@]}."
  if [[ "$(tr -d ' \t\r\n' <deploy/committee.json)" == "[]" ]]; then
    entries=()
    for key in "${member_keys[@]}"; do
      member=${key##*/keys/}
      member=${member%%/*}
      # The REST form of the key (base64url coordinates, as JWKs carry them), read with the deployer's Key Vault Reader.
      jwk=$(with_retries az rest --method get --url "${key}?api-version=7.5" --resource "https://vault.azure.net" \
        --query "[key.kty, key.crv, key.x, key.y]" -o tsv | tr '\n' '\t') || fail "cannot read $key."
      read -r kty crv x y <<<"$jwk"
      [[ "$kty" == EC && "$crv" == P-256 && -n "$x" && -n "$y" ]] || fail "$key is not a P-256 key."
      entries+=("  {\"member\":\"$member\",\"publicKey\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"$x\",\"y\":\"$y\"}}")
    done
    {
      echo "["
      for i in "${!entries[@]}"; do
        if ((i + 1 < ${#entries[@]})); then echo "${entries[$i]},"; else echo "${entries[$i]}"; fi
      done
      echo "]"
    } >deploy/committee.json
    echo "postprovision: wrote deploy/committee.json (${#entries[@]} members); commit it, azd deploy ships it"
  else
    echo "postprovision: deploy/committee.json already names a committee; left as it is"
  fi
fi

# ---------------------------------------------------------------- 3. worker package
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "postprovision: publishing the btmc worker (linux-x64, self-contained)"
dotnet publish cli/Btmc.Cli -c Release -r linux-x64 --self-contained true -o "$work/btmc" --nologo -v quiet >/dev/null \
  || fail "dotnet publish cli/Btmc.Cli failed."
tar -czf "$work/$WORKER_PACKAGE_BLOB" -C "$work/btmc" .
with_retries az storage blob upload --auth-mode login --account-name "$STORAGE_ACCOUNT_NAME" \
  --container-name "$WORKER_PACKAGE_CONTAINER" --name "$WORKER_PACKAGE_BLOB" --file "$work/$WORKER_PACKAGE_BLOB" \
  --overwrite -o none >/dev/null || fail "could not upload the worker package."
echo "postprovision: uploaded ${WORKER_PACKAGE_CONTAINER}/${WORKER_PACKAGE_BLOB}; new GPU nodes install it"
