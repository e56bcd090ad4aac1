#!/bin/bash
# shellcheck disable=SC2317,SC1091,SC2181
# (functions called from the generated steps.sh look unreachable)
# check.sh: check the container image recipe and the Kubernetes example
# without a container engine, on a Debian 12 machine (as root for the
# full check).
#
#   packaging/container/check.sh [WORKDIR]
#
# 1. The Dockerfile: stages from debian:12-slim, a numeric non-root USER,
#    ENTRYPOINT /usr/sbin/postern; every RUN calls build.sh.  Its RUN steps
#    are then run here, in order, with the image's paths mapped into
#    WORKDIR the way its COPY lines say (COPY . /src copies the tree), with
#    POSTERN_CHECK=1: the "runtime" step simulates apt-get and does not add
#    a user to this machine.
# 2. The staged binary runs and finds its libraries.
# 3. k8s-sidecar.yaml parses as YAML, and each document has what the API
#    server requires (apiVersion, kind, metadata.name; a Deployment's
#    selector matching its template, containers with name and image,
#    mounts naming volumes), plus what the example promises: postern as a
#    native sidecar (an init container with restartPolicy: Always) with
#    startup and liveness probes on the admin endpoint (a readiness probe,
#    if any, is "ctl readiness"), config from the ConfigMap mounted as a
#    directory (subPath never sees an update), keys from a Secret the
#    manifest does not contain (kubectl apply would replace the real one)
#    but whose keys its volume lists, fsGroup set to postern's group, a
#    non-root read-only container, the app with
#    REDIS_URL=redis://127.0.0.1:6379 and a grace period longer than
#    shutdown_delay + drain_timeout.
# 4. The ConfigMap's postern.conf passes "postern -n" run as uid 10001
#    (when this runs as root), with the mounts laid out in WORKDIR as the
#    kubelet does: files owned by root, group fsGroup, the Secret's with
#    its defaultMode (0440), the ConfigMap's 0644, each a symlink through
#    ..data into a timestamped directory (the Secret's files are a fresh
#    key and known_hosts line).
# 5. The probes: the staged postern runs the ConfigMap's [postern] section
#    (admin moved to a free loopback port) with one loopback service, as
#    uid 10001 with group fsGroup like the pod; the probe commands of the
#    manifest must pass; with the service's server gone, "ctl readiness"
#    (the strict readiness the manifest offers in a comment) fails while
#    the manifest's probes still pass; after SIGTERM postern exits 0.
#
# Prints "ok - ..." / "not ok - ..." lines and ends with
# "N passed, N failed"; exits non-zero when a check failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=${1:-}
keep=1
if [[ -z "$work" ]]; then
	work=$(mktemp -d /tmp/postern-container.XXXXXX)
	keep=0
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
chmod 755 "$work"
npass=0 nfail=0 pid=

cleanup() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	[[ -n "${srv_pid:-}" ]] && kill "$srv_pid" 2>/dev/null
	((keep)) || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { npass=$((npass + 1)); printf 'ok - container: %s\n' "$1"; }
notok() {
	nfail=$((nfail + 1))
	printf 'not ok - container: %s: %s\n' "$1" "$2"
}
summary() {
	printf '%d passed, %d failed\n' "$npass" "$nfail"
	((nfail == 0))
	exit
}

# Tools: python3 with PyYAML, ssh-keygen (fresh keys for the Secret).
need=()
python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
if ((${#need[@]})); then
	if ((EUID == 0)); then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    --no-install-recommends "${need[@]}" > "$work/apt.log" 2>&1 ||
		    { apt-get update -q >> "$work/apt.log" 2>&1 &&
		    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    --no-install-recommends "${need[@]}" >> "$work/apt.log" 2>&1; }
	fi
	if ! python3 -c 'import yaml' 2>/dev/null ||
	    ! command -v ssh-keygen >/dev/null; then
		notok tools "cannot install ${need[*]}"
		summary
	fi
fi

# ---------------------------------------------------------------------
# 1. The Dockerfile, and its RUN steps as a script.
python3 - "$here/Dockerfile" "$top" "$work" > "$work/steps.sh" \
    2> "$work/dockerfile.err" <<'PY'
import os, re, shlex, sys

path, top, work = sys.argv[1:4]
errors = []
lines, buf = [], ""
for raw in open(path):
    line = raw.rstrip("\n")
    if not buf and (line.lstrip().startswith("#") or not line.strip()):
        continue
    if line.endswith("\\"):
        buf += line[:-1] + " "
        continue
    lines.append((buf + line).strip())
    buf = ""

args, stages, copies = {}, [], {}   # copies: image path -> host path
steps, user, entry = [], None, None
for line in lines:
    instr, _, rest = line.partition(" ")
    instr = instr.upper()
    rest = rest.strip()
    for k, v in args.items():
        rest = rest.replace("${%s}" % k, v).replace("$" + k, v)
    if instr == "ARG":
        k, _, v = rest.partition("=")
        args[k] = v
    elif instr == "FROM":
        words = rest.split()
        base = words[0]
        if base not in ("debian:12-slim", "debian:bookworm-slim"):
            errors.append("FROM %s: not debian:12-slim" % base)
        stages.append(words[2] if len(words) == 3 and words[1].upper() == "AS"
                      else str(len(stages)))
        user = None
    elif instr == "COPY":
        words = shlex.split(rest)
        src_stage = None
        while words and words[0].startswith("--"):
            if words[0].startswith("--from="):
                src_stage = words[0][7:]
            words.pop(0)
        src, dest = words[0], words[-1]
        if src_stage is not None:
            if src_stage not in stages:
                errors.append("COPY --from=%s: no such stage" % src_stage)
            host = os.path.join(work, src.lstrip("/"))
        elif src == ".":
            host = os.path.join(work, "src")
            steps.append("copy_tree %s" % shlex.quote(host))
        else:
            host = os.path.join(top, src)
            if not os.path.exists(host):
                errors.append("COPY %s: no such file in the tree" % src)
        if dest != "/":
            copies[dest.rstrip("/")] = host
    elif instr == "RUN":
        if rest.startswith("["):
            errors.append("RUN in exec form: keep the steps in build.sh")
            continue
        words = shlex.split(rest)
        out = []
        for w in words:
            if w.startswith("/"):
                best = max((p for p in copies if w == p or w.startswith(p + "/")),
                           key=len, default=None)
                w = copies[best] + w[len(best):] if best else \
                    os.path.join(work, w.lstrip("/"))
            out.append(w)
        if not any(w.endswith("/build.sh") for w in out):
            errors.append("RUN %s: does not call build.sh" % rest)
        steps.append("run_step " + " ".join(shlex.quote(w) for w in out))
    elif instr == "USER":
        user = rest
    elif instr == "ENTRYPOINT":
        entry = rest

if len(stages) < 2:
    errors.append("not a multi-stage build")
if user is None or not re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", user):
    errors.append("final stage: USER %s is not a numeric non-root uid" % user)
if entry is None or "/usr/sbin/postern" not in entry:
    errors.append("ENTRYPOINT is not /usr/sbin/postern")
for e in errors:
    print(e, file=sys.stderr)
print("\n".join(steps))
sys.exit(1 if errors else 0)
PY
if [[ $? == 0 ]]; then
	ok "Dockerfile: multi-stage, debian:12-slim, USER non-root, RUN steps in build.sh"
else
	notok "Dockerfile" "$(paste -sd';' "$work/dockerfile.err")"
	summary
fi

copy_tree() {		# the build context, as Dockerfile.dockerignore leaves it
	bash "$top/packaging/copy-tree.sh" "$top" "$1"
}
run_step() {
	echo "+ $*"
	env POSTERN_CHECK=1 "$@"
}
if (set -e; . "$work/steps.sh") > "$work/steps.log" 2>&1; then
	ok "Dockerfile RUN steps ran here ($(grep -c '^run_step' "$work/steps.sh") steps)"
else
	notok "Dockerfile RUN steps" "see the end of $work/steps.log"
	tail -n 20 "$work/steps.log" | sed 's/^/#   /'
	keep=1
	summary
fi

# ---------------------------------------------------------------------
# 2. The staged image content.
bin=$work/stage/root/usr/sbin/postern
if [[ -x "$bin" ]] && "$bin" -V > "$work/version" 2>&1 &&
    ! ldd "$bin" | grep -q 'not found'; then
	ok "staged /usr/sbin/postern runs: $(cat "$work/version")"
else
	notok "staged binary" "$(cat "$work/version" 2>/dev/null; ldd "$bin" 2>&1 | grep 'not found')"
	summary
fi

# ---------------------------------------------------------------------
# 3. The manifest; prints the ConfigMap's config, the Secret's keys and
# the probe commands for what follows.
mkdir -p "$work/mnt"
python3 - "$here/k8s-sidecar.yaml" "$work/mnt" > "$work/yaml.out" \
    2> "$work/yaml.err" <<'PY'
import json, os, re, sys
import yaml

path, mnt = sys.argv[1:3]
errs = []
def err(msg):
    errs.append(msg)

def dur_s(v):
    m = re.fullmatch(r"(\d+)(ms|s|m)", v.strip())
    if not m:
        return 0
    n, u = int(m.group(1)), m.group(2)
    return n / 1000 if u == "ms" else n * 60 if u == "m" else n

def need(obj, dotted, where):
    cur = obj
    for k in dotted.split("."):
        if not isinstance(cur, dict) or k not in cur:
            err("%s: missing %s" % (where, dotted))
            return None
        cur = cur[k]
    return cur

def check_container(c, where):
    if not isinstance(c, dict):
        err("%s: not a mapping" % where)
        return
    if not c.get("name") or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", c["name"]):
        err("%s: name missing or not a DNS label" % where)
    if not c.get("image"):
        err("%s: image missing" % where)

docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
by_kind = {}
for i, d in enumerate(docs):
    where = "document %d" % (i + 1)
    for f in ("apiVersion", "kind", "metadata.name"):
        need(d, f, where)
    by_kind.setdefault(d.get("kind"), []).append(d)

cms, secrets, deps = by_kind.get("ConfigMap", []), by_kind.get("Secret", []), \
    by_kind.get("Deployment", [])
if len(deps) != 1 or not cms:
    err("want one Deployment and a ConfigMap")
    print("\n".join(errs), file=sys.stderr)
    sys.exit(1)
for x in secrets:
    err("Secret %s in the manifest: kubectl apply would replace the real "
        "keys (made with kubectl create secret) with it" % x["metadata"]["name"])
dep = deps[0]
if dep.get("apiVersion") != "apps/v1":
    err("Deployment: apiVersion is not apps/v1")
sel = need(dep, "spec.selector.matchLabels", "Deployment") or {}
labels = need(dep, "spec.template.metadata.labels", "Deployment") or {}
if not sel or any(labels.get(k) != v for k, v in sel.items()):
    err("Deployment: spec.selector.matchLabels does not match the template's labels")
pod = need(dep, "spec.template.spec", "Deployment") or {}
containers = pod.get("containers") or []
inits = pod.get("initContainers") or []
if not containers:
    err("pod: no containers")
for c in containers:
    check_container(c, "container %s" % c.get("name"))
for c in inits:
    check_container(c, "init container %s" % c.get("name"))
volumes = {v.get("name"): v for v in pod.get("volumes") or []}
for c in containers + inits:
    for m in c.get("volumeMounts") or []:
        if m.get("name") not in volumes:
            err("container %s: mount of unknown volume %s" % (c.get("name"), m.get("name")))
        if not str(m.get("mountPath", "")).startswith("/"):
            err("container %s: mountPath is not absolute" % c.get("name"))

sidecars = [c for c in inits if c.get("name") == "postern"]
if not sidecars:
    err("no init container named postern")
    print("\n".join(errs), file=sys.stderr)
    sys.exit(1)
pc = sidecars[0]
if pc.get("restartPolicy") != "Always":
    err("postern: restartPolicy is not Always (not a native sidecar)")
sc = pc.get("securityContext") or {}
for k, want in (("readOnlyRootFilesystem", True), ("runAsNonRoot", True),
                ("allowPrivilegeEscalation", False)):
    if sc.get(k) is not want:
        err("postern: securityContext.%s is not %s" % (k, want))
if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
    err("postern: capabilities are not all dropped")
if (sc.get("runAsUser") or 0) == 0:
    err("postern: runAsUser is not a non-root uid")
probes = {}
for p, page in (("startupProbe", "startup"), ("livenessProbe", "liveness"),
                ("readinessProbe", "readiness")):
    if p == "readinessProbe" and p not in pc:
        continue        # optional: it fails during a database outage
    cmd = ((pc.get(p) or {}).get("exec") or {}).get("command")
    if not cmd or cmd[-1] != page or "ctl" not in cmd:
        err("postern: %s is not 'postern ctl ... %s'" % (p, page))
    else:
        probes[page] = cmd
# Kubernetes mounts Secret and ConfigMap files owned by root: postern
# (runAsGroup) reads them through fsGroup, or not at all.
psc = pod.get("securityContext") or {}
fsgroup = psc.get("fsGroup")
group = sc.get("runAsGroup", psc.get("runAsGroup"))
if fsgroup is None:
    err("pod: no securityContext.fsGroup: the root-owned Secret files "
        "are unreadable for uid %s" % sc.get("runAsUser"))
elif group is not None and fsgroup != group:
    err("pod: fsGroup %s is not postern's group %s" % (fsgroup, group))

# The config and keys, mounted from the ConfigMap and the Secret.
conf_path, mounts, modes = None, {}, {}
for m in pc.get("volumeMounts") or []:
    v = volumes.get(m.get("name")) or {}
    if "configMap" in v:
        cm = [c for c in cms if c["metadata"]["name"] == v["configMap"].get("name")]
        if not cm:
            err("volume %s: no ConfigMap %s" % (m["name"], v["configMap"].get("name")))
            continue
        data = cm[0].get("data") or {}
        if m.get("subPath"):
            err("volume %s: mounted with subPath, which never sees an "
                "update of the ConfigMap" % m["name"])
            mounts[m["mountPath"]] = {"": data.get(m["subPath"])}
        else:
            mounts[m["mountPath"]] = data
        modes[m["mountPath"]] = v["configMap"].get("defaultMode", 0o644)
    elif "secret" in v:
        items = v["secret"].get("items") or []
        if not items:
            err("volume %s: no items: the keys the Secret must hold are "
                "not said" % m["name"])
        mounts[m["mountPath"]] = {i.get("path", i.get("key")): None
                                  for i in items}   # keys only
        modes[m["mountPath"]] = v["secret"].get("defaultMode", 0o644)
if not any(None in d.values() for d in mounts.values()):
    err("postern: no keys mounted from a Secret")
args = pc.get("args") or []
if "-c" in args:
    conf_path = args[args.index("-c") + 1]
conf = None
for mp, data in mounts.items():
    if conf_path == mp and "" in data:
        conf = data[""]
    elif conf_path and os.path.dirname(conf_path) == mp:
        conf = data.get(os.path.basename(conf_path))
if not conf:
    err("postern: the -c file %s is not in a mounted ConfigMap" % conf_path)
    conf = ""

# Timing: grace period > shutdown_delay + drain_timeout.
glob = {}
sect = None
for line in conf.splitlines():
    line = line.strip()
    if line.startswith("["):
        sect = line.strip("[]").split()[0]
    elif sect == "postern" and "=" in line and not line.startswith(("#", ";")):
        k, _, v = line.partition("=")
        glob[k.strip()] = v.split("#")[0].strip()
if not glob.get("admin", "").startswith(("127.", "[::1]", "unix:", "localhost")):
    err("postern.conf: admin is not on loopback")
delay = dur_s(glob.get("shutdown_delay", "0"))
drain = dur_s(glob.get("drain_timeout", "30s"))
grace = pod.get("terminationGracePeriodSeconds", 30)
if grace <= delay + drain:
    err("terminationGracePeriodSeconds %s is not above shutdown_delay + drain_timeout (%s)"
        % (grace, delay + drain))

apps = [c for c in containers if any(e.get("name") == "REDIS_URL" and
        e.get("value") == "redis://127.0.0.1:6379" for e in c.get("env") or [])]
if not apps:
    err("no app container with REDIS_URL=redis://127.0.0.1:6379")

# Lay the mounts out under mnt, as the kubelet would: the files in a
# timestamped directory, "..data" a symlink to it, each name a symlink
# through ..data; the shell sets owners and modes ("file" lines).
for mp, data in mounts.items():
    d = os.path.join(mnt, mp.lstrip("/"))
    ts = os.path.join(d, "..2026_01_01_00_00_00.000000000")
    os.makedirs(ts, exist_ok=True)
    if not os.path.lexists(os.path.join(d, "..data")):
        os.symlink(os.path.basename(ts), os.path.join(d, "..data"))
    for name, content in data.items():
        if name == "":
            continue        # a subPath mount: reported above
        f = os.path.join(ts, name)
        if not os.path.lexists(os.path.join(d, name)):
            os.symlink(os.path.join("..data", name), os.path.join(d, name))
        if content is None:
            print("secret\t" + f)
        else:
            open(f, "w").write(content)
        print("file\t%o\t%s" % (modes.get(mp, 0o644), f))
print("fsgroup\t%s" % (fsgroup if fsgroup is not None else ""))
print("conf\t" + os.path.join(mnt, conf_path.lstrip("/")))
for page, cmd in probes.items():
    print("probe\t%s\t%s" % (page, json.dumps(cmd)))
print("shutdown_delay\t%s" % delay)
for e in errs:
    print(e, file=sys.stderr)
sys.exit(1 if errs else 0)
PY
if [[ $? == 0 ]]; then
	ok "k8s-sidecar.yaml: valid objects, native sidecar, probes, ConfigMap, Secret, timing"
else
	notok "k8s-sidecar.yaml" "$(paste -sd';' "$work/yaml.err")"
	summary
fi

# ---------------------------------------------------------------------
# 4. The ConfigMap's config, with the mounts under $work/mnt.
conf=$(awk -F '\t' '$1 == "conf" { print $2 }' "$work/yaml.out")
ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey" -C host >/dev/null
while IFS=$'\t' read -r kind f; do
	[[ "$kind" == secret ]] || continue
	case $(basename "$f") in
	known_hosts)
		printf 'bastion.example.com %s\n' "$(cut -d' ' -f1,2 "$work/hostkey.pub")" > "$f" ;;
	id_*)
		ssh-keygen -q -t ed25519 -N '' -f "$f" -C postern >/dev/null ;;
	*)
		printf 'placeholder\n' > "$f" ;;
	esac
done < "$work/yaml.out"
sed -i --follow-symlinks "s|/etc/postern/|$work/mnt/etc/postern/|g" "$conf"
# As the kubelet leaves them: root's files, group fsGroup, the volume's
# defaultMode; postern runs as uid 10001 with fsGroup as a group.
fsgroup=$(awk -F '\t' '$1 == "fsgroup" { print $2 }' "$work/yaml.out")
as_pod=() how="as this user (not root: modes not applied)"
if ((EUID == 0)); then
	find "$work/mnt" -type d -exec chmod 755 {} +
	while IFS=$'\t' read -r kind mode f; do
		[[ "$kind" == file ]] || continue
		chown "0:${fsgroup:-0}" "$f" && chmod "$mode" "$f"
	done < "$work/yaml.out"
	as_pod=(setpriv --reuid=10001 --regid=10001 --groups="${fsgroup:-10001}")
	how="as uid 10001, files root:${fsgroup:-none} with the volumes' modes"
fi
if out=$("${as_pod[@]}" "$bin" -n -c "$conf" 2>&1) &&
    [[ "$out" == "configuration OK" ]]; then
	ok "the ConfigMap's postern.conf passes postern -n $how"
else
	notok "the ConfigMap's postern.conf ($how)" "$(printf '%s' "$out" | paste -sd';')"
fi
# The scrape variant the manifest describes: admin on every interface,
# admin_token_file from the Secret (root-owned, group fsGroup, 0440).
keys=$(awk -F '\t' '$1 == "secret" { print $2; exit }' "$work/yaml.out")
keys=${keys%/*}
if [[ -n "$keys" ]]; then
	openssl rand -hex 32 > "$keys/admin-token" 2>/dev/null ||
	    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$keys/admin-token"
	ln -sfn ..data/admin-token "${keys%/*}/admin-token"
	if ((EUID == 0)); then
		chown "0:${fsgroup:-0}" "$keys/admin-token"
		chmod 0440 "$keys/admin-token"
	else
		chmod 0600 "$keys/admin-token"
	fi
	sed -e 's|^admin .*|admin = *:9090|' \
	    -e "/^\[postern\]/a admin_token_file = ${keys%/*}/admin-token" \
	    "$conf" > "$work/mnt/scrape.conf"
	chmod 644 "$work/mnt/scrape.conf"
	if out=$("${as_pod[@]}" "$bin" -n -c "$work/mnt/scrape.conf" 2>&1) &&
	    [[ "$out" == "configuration OK" ]]; then
		ok "the scrape variant (admin = *:9090, admin_token_file from the Secret) passes postern -n $how"
	else
		notok "the scrape variant ($how)" "$(printf '%s' "$out" | paste -sd';')"
	fi
fi

# ---------------------------------------------------------------------
# 5. The probes against the staged postern, as the image's user.
# Three free loopback ports: POSTERN_CHECK_PORTS (tests/lib.sh's
# free_port reserves them) or the kernel's choice.
ports=${POSTERN_CHECK_PORTS:-$(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')}
read -r p_admin p_listen p_srv <<< "$ports"
socat "TCP-LISTEN:$p_srv,bind=127.0.0.1,reuseaddr,fork" SYSTEM:cat \
    > /dev/null 2>&1 &
srv_pid=$!
probe_conf=$work/probe/postern.conf
mkdir -p "$work/probe"
{
	awk '/^\[/ { p = ($0 ~ /^\[postern\]/) } p' "$conf" |
	    sed -e "s|^admin .*|admin = 127.0.0.1:$p_admin|" \
		-e 's|^drain_timeout .*|drain_timeout = 2s|'
	printf '\n[service app]\nlisten = 127.0.0.1:%s\nprotocol = tcp\n' "$p_listen"
	printf 'route = private tcp://127.0.0.1:%s\ncheck = tcp\n' "$p_srv"
	printf 'check_interval = 500ms\ncheck_down_interval = 500ms\n'
	printf 'check_timeout = 300ms\nfall = 1\n'
} > "$probe_conf"
chmod -R a+rX "$work/probe"
# No shutdown_delay here: the manifest's is 0 (native sidecars).
"${as_pod[@]}" "$bin" -c "$probe_conf" > "$work/probe/postern.log" 2>&1 &
pid=$!

probe() {	# probe PAGE: run the manifest's command for PAGE
	local cmd
	cmd=$(awk -F '\t' -v p="$1" '$1 == "probe" && $2 == p { print $3 }' "$work/yaml.out")
	python3 -c '
import json, subprocess, sys
cmd = json.loads(sys.argv[1])
cmd = [sys.argv[2] if c == "/usr/sbin/postern" else
       sys.argv[3] if c.startswith("/etc/postern/") else c for c in cmd]
sys.exit(subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         timeout=5))' "$cmd" "$bin" "$probe_conf"
}
wait_probe() {	# wait_probe PAGE SECONDS
	local n=$(($2 * 10))
	while ((n-- > 0)); do
		probe "$1" && return 0
		sleep 0.1
	done
	return 1
}
strict() {	# the readiness the manifest offers in a comment
	timeout 5 "$bin" ctl -c "$probe_conf" readiness > /dev/null 2>&1
}
has_readiness=$(awk -F '\t' '$1 == "probe" && $2 == "readiness"' "$work/yaml.out")
why=
wait_probe startup 10 || why="startup probe never passed"
[[ -z "$why" ]] && { probe liveness || why="liveness probe failed"; }
if [[ -z "$why" && -n "$has_readiness" ]]; then
	wait_probe readiness 5 || why="readiness probe failed"
fi
[[ -z "$why" ]] && { strict || why="ctl readiness failed with the route up"; }
if [[ -z "$why" ]]; then
	# The server behind the only route goes away: the strict readiness
	# fails; the manifest's probes go on passing (without a readiness
	# probe on the sidecar, the app's own decides).
	kill "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	srv_pid=
	n=50
	while strict && ((n-- > 0)); do
		sleep 0.1
	done
	if strict; then
		why="ctl readiness still passes with the route's server gone"
	elif ! probe liveness; then
		why="the liveness probe fails when the route is down"
	elif [[ -n "$has_readiness" ]] && probe readiness; then
		why="the manifest's ctl readiness passes with no usable route"
	fi
fi
if [[ -z "$why" ]] && ((EUID == 0)); then
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	[[ "$uid" == 10001 ]] || why="postern runs as uid $uid, not 10001"
fi
if [[ -z "$why" ]]; then
	kill -TERM "$pid"
	wait "$pid"
	st=$?
	pid=
	[[ "$st" != 0 ]] && why="exit status $st after SIGTERM"
fi
if [[ -z "$why" ]]; then
	ok "probes: startup and liveness pass as uid 10001 (group fsGroup); with the route down ctl readiness fails, the manifest's probes pass; exit 0 after SIGTERM"
else
	notok "probes" "$why; log: $(tail -n 5 "$work/probe/postern.log" | paste -sd'|')"
fi

summary
