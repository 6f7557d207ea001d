"""Check a rendered overlay: custom resources against their schemas, and the platform's rules.

    python deploy/checks/manifests_check.py RENDERED.yaml --builtin-out BUILTIN.yaml

Run with the deploy-check tools' Python (jsonschema) and `contracts` on PYTHONPATH (the topic
catalogue). Writes the built-in kinds to --builtin-out for `kubernetes-validate --strict`,
validates the custom resources with deploy/checks/custom_resources.py, and checks what a
scanner cannot know: every service has its Deployments, probes, budgets and autoscalers;
every edge (the web) has its own and no Kafka at all, reaches each service's API and is
reached through an Ingress on HTTPS at its public URL's host; secrets are referenced, never
inlined, and each comes from an operator or the install steps; grace periods outlast preStop
plus the shutdown; images are pinned by digest; the Kafka topics, users and lag autoscalers
match the contracts catalogue.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import custom_resources
import gen_strimzi
from aptt_contracts.catalogue import SERVICES, TOPICS, TOPICS_BY_NAME

Doc = dict[str, Any]

BUILTIN_GROUPS = {
    "v1",
    "apps/v1",
    "batch/v1",
    "policy/v1",
    "autoscaling/v2",
    "networking.k8s.io/v1",
    "rbac.authorization.k8s.io/v1",
}
# The edges: components people's browsers reach (through an Ingress) that call the services'
# APIs over HTTP. They have no Kafka client and no worker; their pods are labelled
# app.kubernetes.io/component=edge, and the services admit that label.
EDGES = ("web",)
EDGE = "edge"
# Every component with a MongoDB database and user of its own (the web: its sessions).
WITH_DATABASE = (*SERVICES, *EDGES)
KAFKA_CLIENT = "aptt.io/kafka-client"
SECRET_SETTINGS = {
    "APTT_MONGO_URL",
    "APTT_KAFKA_SASL_PASSWORD",
    "APTT_SMTP_PASSWORD",
    "APTT_SMS_AUTH_TOKEN",
    "APTT_OIDC_CLIENT_SECRET",
}
# Secrets the install steps create (docs/operations.md, "Secrets"); every other referenced
# Secret must be produced by an operator from a resource in the rendered output.
INSTALLER_SECRETS = {"aptt-notify-providers", "aptt-web-oidc"} | {
    f"aptt-{c}-mongo-password" for c in WITH_DATABASE
}
HTTP_PORT = 8000
PRESTOP_PLUS_SHUTDOWN_MARGIN = 5


class Problems(list[str]):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def name(doc: Doc) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def containers(doc: Doc) -> Iterator[Doc]:
    spec = doc["spec"]["template"]["spec"]
    yield from spec.get("initContainers", [])
    yield from spec.get("containers", [])


def pod_labels(doc: Doc) -> dict[str, str]:
    labels: dict[str, str] = doc["spec"]["template"]["metadata"].get("labels", {})
    return labels


def is_kafka_client(doc: Doc) -> bool:
    return pod_labels(doc).get(KAFKA_CLIENT) == "true"


def env_names(doc: Doc, docs: list[Doc]) -> set[str]:
    """Every variable the Deployment's containers get: their own and their ConfigMaps'."""
    maps = {cm["metadata"]["name"]: cm.get("data") or {} for cm in of_kind(docs, "ConfigMap")}
    names: set[str] = set()
    for c in containers(doc):
        names |= {env["name"] for env in c.get("env", [])}
        for source in c.get("envFrom", []):
            names |= set(maps.get(source.get("configMapRef", {}).get("name", ""), {}))
    return names


def config_value(docs: list[Doc], key: str) -> str | None:
    for cm in of_kind(docs, "ConfigMap"):
        if key in (cm.get("data") or {}):
            value: str = cm["data"][key]
            return value
    return None


def check_custom_resources(docs: list[Doc], problems: Problems) -> None:
    for doc in docs:
        if doc["apiVersion"] in BUILTIN_GROUPS:
            continue
        schema = custom_resources.SCHEMAS.get((doc["apiVersion"], doc["kind"]))
        if schema is None:
            problems.add(name(doc), f"no schema for {doc['apiVersion']} {doc['kind']}")
            continue
        validator = jsonschema.Draft202012Validator(schema)
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            path = ".".join(str(p) for p in error.path)
            problems.add(name(doc), f"{path}: {error.message}")


def check_pod_security(doc: Doc, problems: Problems) -> None:
    where = name(doc)
    pod = doc["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        problems.add(where, "pod securityContext.runAsNonRoot must be true")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.add(where, "pod seccompProfile must be RuntimeDefault")
    if pod.get("automountServiceAccountToken") is not False:
        problems.add(where, "automountServiceAccountToken must be false")
    tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for c in containers(doc):
        sc = c.get("securityContext", {})
        cw = f"{where} container {c['name']}"
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.add(cw, "allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.add(cw, "readOnlyRootFilesystem must be true")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.add(cw, "capabilities must drop ALL")
        if sc.get("capabilities", {}).get("add"):
            problems.add(cw, "no capability may be added")
        if int(sc.get("runAsUser", psc.get("runAsUser", 0))) < 10000:
            problems.add(cw, "runAsUser must be a high UID (>= 10000)")
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        if mounts.get("/tmp") not in tmp_volumes:  # noqa: S108  (the path, not a file)
            problems.add(cw, "needs an emptyDir mounted on /tmp")
        for kind in ("requests", "limits"):
            for res in ("cpu", "memory"):
                if res not in c.get("resources", {}).get(kind, {}):
                    problems.add(cw, f"resources.{kind}.{res} missing")
        if not re.search(r"@sha256:[0-9a-f]{64}$", c.get("image", "")):
            problems.add(cw, f"image {c.get('image')} is not pinned by digest")


def check_deployment(doc: Doc, docs: list[Doc], problems: Problems) -> None:
    where = name(doc)
    pod = doc["spec"]["template"]["spec"]
    main = pod["containers"][0]
    probes = {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    for probe, path in probes.items():
        if main.get(probe, {}).get("httpGet", {}).get("path") != path:
            problems.add(where, f"{probe} must GET {path}")
    sleep = main.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds")
    if not sleep:
        problems.add(where, "needs a preStop sleep")
    grace = float(config_value(docs, "APTT_SHUTDOWN_GRACE_SECONDS") or 20)
    period = pod.get("terminationGracePeriodSeconds", 30)
    if period < (sleep or 0) + grace + PRESTOP_PLUS_SHUTDOWN_MARGIN:
        problems.add(
            where,
            f"terminationGracePeriodSeconds {period} must exceed preStop {sleep}s + shutdown "
            f"{grace:.0f}s + {PRESTOP_PLUS_SHUTDOWN_MARGIN}s",
        )
    check_pod_security(doc, problems)
    cm_names = {cm["metadata"]["name"] for cm in of_kind(docs, "ConfigMap")}
    for c in pod["containers"]:
        for source in c.get("envFrom", []):
            ref = source.get("configMapRef", {}).get("name")
            if ref and ref not in cm_names:
                problems.add(where, f"envFrom ConfigMap {ref} is not in the output")
            if "secretRef" in source:
                problems.add(where, "envFrom secretRef: reference single keys instead")
        for env in c.get("env", []):
            if env["name"] in SECRET_SETTINGS and "secretKeyRef" not in env.get("valueFrom", {}):
                problems.add(where, f"{env['name']} must come from a secretKeyRef")


def produced_secrets(docs: list[Doc]) -> set[str]:
    """Secrets the operators create from resources in the output."""
    names = {u["metadata"]["name"] for u in of_kind(docs, "KafkaUser")}
    names |= {f"{k['metadata']['name']}-cluster-ca-cert" for k in of_kind(docs, "Kafka")}
    for mdb in of_kind(docs, "MongoDBCommunity"):
        for user in mdb["spec"].get("users", []):
            names.add(
                user.get("connectionStringSecretName")
                or f"{mdb['metadata']['name']}-{user['db']}-{user['name']}"
            )
    return names


def check_secrets(docs: list[Doc], problems: Problems) -> None:
    for doc in of_kind(docs, "Secret"):
        problems.add(name(doc), "Secrets are never part of the manifests (reference them)")
    for cm in of_kind(docs, "ConfigMap"):
        for key in cm.get("data") or {}:
            if key in SECRET_SETTINGS:
                problems.add(name(cm), f"{key} is a secret and may not be in a ConfigMap")
    known = produced_secrets(docs) | INSTALLER_SECRETS
    for doc in of_kind(docs, "Deployment"):
        pod = doc["spec"]["template"]["spec"]
        refs = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        for c in containers(doc):
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add(ref["name"])
        for ref in sorted(refs - known):
            problems.add(name(doc), f"Secret {ref} is neither made by an operator nor installed")
    for ta in of_kind(docs, "TriggerAuthentication"):
        for ref in ta["spec"].get("secretTargetRef", []):
            if ref["name"] not in known:
                problems.add(name(ta), f"Secret {ref['name']} is not made by an operator")


def check_services(docs: list[Doc], problems: Problems) -> None:
    by_name = {(d["kind"], d["metadata"]["name"]) for d in docs}
    pdb_selectors = [
        d["spec"]["selector"]["matchLabels"]
        for d in of_kind(docs, "PodDisruptionBudget")
        if d["spec"].get("maxUnavailable") == 1
    ]
    for service in SERVICES:
        where = f"service {service}"
        for kind, resource_name in (
            ("Deployment", f"aptt-{service}-api"),
            ("Deployment", f"aptt-{service}-worker"),
            ("Service", f"aptt-{service}"),
            ("ServiceAccount", f"aptt-{service}"),
            ("HorizontalPodAutoscaler", f"aptt-{service}-api"),
            ("ServiceMonitor", f"aptt-{service}"),
            ("ScaledObject", f"aptt-{service}-worker"),
            ("KafkaUser", f"aptt-{service}"),
        ):
            if (kind, resource_name) not in by_name:
                problems.add(where, f"{kind}/{resource_name} missing")
    for sa in of_kind(docs, "ServiceAccount"):
        if sa.get("automountServiceAccountToken") is not False:
            problems.add(name(sa), "automountServiceAccountToken must be false")
    for dep in of_kind(docs, "Deployment"):
        labels = dep["spec"]["template"]["metadata"]["labels"]
        if not any(all(labels.get(k) == v for k, v in sel.items()) for sel in pdb_selectors):
            problems.add(name(dep), "no PodDisruptionBudget with maxUnavailable 1 covers it")
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]["name"]
        if ("Deployment", target) not in by_name:
            problems.add(name(hpa), f"targets missing Deployment {target}")


def check_network_policies(docs: list[Doc], problems: Problems) -> None:
    policies = of_kind(docs, "NetworkPolicy")
    deny = [
        p
        for p in policies
        if p["spec"].get("podSelector") in ({}, None)
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    if not deny:
        problems.add("NetworkPolicy", "no namespace-wide default-deny policy")

    def selects(policy: Doc, labels: dict[str, str]) -> bool:
        match = policy["spec"].get("podSelector", {}).get("matchLabels", {})
        return bool(match) and all(labels.get(k) == v for k, v in match.items())

    for dep in of_kind(docs, "Deployment"):
        labels = dep["spec"]["template"]["metadata"]["labels"]
        mine = [p for p in policies if selects(p, labels)]
        if not any(p["spec"].get("ingress") for p in mine):
            problems.add(name(dep), "no NetworkPolicy allows ingress to it")
        egress_ports = {
            port.get("port")
            for p in mine
            for rule in p["spec"].get("egress", [])
            for port in rule.get("ports", [])
        }
        if 27017 not in egress_ports:
            problems.add(name(dep), "no NetworkPolicy allows egress to MongoDB (27017)")
        if is_kafka_client(dep) and 9093 not in egress_ports:
            problems.add(name(dep), "no NetworkPolicy allows egress to Kafka (9093)")
        if not is_kafka_client(dep) and 9093 in egress_ports:
            problems.add(name(dep), "not a Kafka client, yet may reach Kafka (9093)")


def _lets_through(rules: list[Doc], peers: str, labels: dict[str, str], port: int) -> bool:
    """Whether a rule lets pods of this namespace so labelled through on this port."""
    for rule in rules:
        ports = {p.get("port") for p in rule.get("ports", [])}
        if ports and port not in ports:
            continue
        for peer in rule.get(peers, []):
            match = peer.get("podSelector", {}).get("matchLabels")
            if (
                "namespaceSelector" not in peer
                and match
                and all(labels.get(k) == v for k, v in match.items())
            ):
                return True
    return False


def admits(policy: Doc, labels: dict[str, str], port: int) -> bool:
    return _lets_through(policy["spec"].get("ingress", []), "from", labels, port)


def allows_egress_to(policy: Doc, labels: dict[str, str], port: int) -> bool:
    return _lets_through(policy["spec"].get("egress", []), "to", labels, port)


def check_edges(docs: list[Doc], problems: Problems) -> None:
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    policies = of_kind(docs, "NetworkPolicy")

    def policies_of(labels: dict[str, str]) -> list[Doc]:
        return [
            p
            for p in policies
            if (match := p["spec"].get("podSelector", {}).get("matchLabels"))
            and all(labels.get(k) == v for k, v in match.items())
        ]

    api_pods = {
        service: pod_labels(dep)
        for service in SERVICES
        if (dep := by_name.get(("Deployment", f"aptt-{service}-api")))
    }
    for edge in EDGES:
        where = f"edge {edge}"
        resource_name = f"aptt-{edge}"
        for kind in ("Deployment", "Service", "ServiceAccount", "HorizontalPodAutoscaler"):
            if (kind, resource_name) not in by_name:
                problems.add(where, f"{kind}/{resource_name} missing")
        dep = by_name.get(("Deployment", resource_name))
        if dep is None:
            continue
        labels = pod_labels(dep)
        if labels.get("app.kubernetes.io/component") != EDGE:
            problems.add(name(dep), f"pods must be labelled app.kubernetes.io/component={EDGE}")
        # No Kafka at all: no client label, settings, credentials, CA or user.
        if is_kafka_client(dep):
            problems.add(name(dep), f"an edge is not a Kafka client ({KAFKA_CLIENT})")
        kafka_settings = sorted(n for n in env_names(dep, docs) if n.startswith("APTT_KAFKA_"))
        if kafka_settings:
            problems.add(name(dep), f"an edge gets no Kafka settings, has {kafka_settings}")
        if dep["spec"]["template"]["spec"].get("initContainers"):
            problems.add(name(dep), "an edge needs no init container (no Kafka CA bundle)")
        if ("KafkaUser", resource_name) in by_name:
            problems.add(where, f"KafkaUser/{resource_name}: an edge has no Kafka user")
        mine = policies_of(labels)
        for service, api in api_pods.items():
            url = config_value(docs, f"APTT_{service.upper()}_URL")
            if url != f"http://aptt-{service}":
                problems.add(name(dep), f"APTT_{service.upper()}_URL is {url}, not the Service")
            if not any(allows_egress_to(p, api, HTTP_PORT) for p in mine):
                problems.add(name(dep), f"no NetworkPolicy lets it reach aptt-{service}-api")
            if not any(admits(p, labels, HTTP_PORT) for p in policies_of(api)):
                problems.add(f"aptt-{service}-api", f"no NetworkPolicy admits the {edge} pods")
        check_public_url(edge, docs, problems)


def routed_to(paths: list[Doc], path: str) -> str | None:
    """The Service an Ingress rule sends this path to: an Exact match, else the longest
    Prefix whose elements begin the path (the Ingress API's precedence)."""
    exact = [p for p in paths if p.get("pathType") == "Exact" and p["path"] == path]
    if exact:
        target: str = exact[0]["backend"]["service"]["name"]
        return target
    elements = path.strip("/").split("/")
    best: tuple[int, str] | None = None
    for p in paths:
        if p.get("pathType") not in ("Prefix", "ImplementationSpecific"):
            continue
        prefix = [e for e in p["path"].strip("/").split("/") if e]
        if elements[: len(prefix)] == prefix and (best is None or len(prefix) > best[0]):
            best = (len(prefix), p["backend"]["service"]["name"])
    return best[1] if best else None


def check_public_url(edge: str, docs: list[Doc], problems: Problems) -> None:
    """Each Ingress to the edge is HTTPS for the host of its public URL (the sign-in comes
    back there), keeps /metrics inside the cluster, and only reaches Service ports that
    exist."""
    service_name = f"aptt-{edge}"
    url = config_value(docs, f"APTT_{edge.upper()}_PUBLIC_URL") or ""
    match = re.fullmatch(r"https://([^/:]+)(?::\d+)?(?:/.*)?", url)
    if not match or match.group(1).endswith(".invalid"):
        problems.add(f"edge {edge}", f"APTT_{edge.upper()}_PUBLIC_URL {url!r} is no public https")
    services = {s["metadata"]["name"]: s for s in of_kind(docs, "Service")}
    for ingress in of_kind(docs, "Ingress"):
        spec = ingress["spec"]
        tls_hosts = {h for t in spec.get("tls", []) for h in t.get("hosts", [])}
        for rule in spec.get("rules", []):
            host = rule.get("host")
            if host not in tls_hosts:
                problems.add(name(ingress), f"host {host} has no TLS")
            paths = rule.get("http", {}).get("paths", [])
            if any(p["backend"]["service"]["name"] == service_name for p in paths) and (
                routed_to(paths, "/metrics") == service_name
            ):
                problems.add(name(ingress), f"host {host} routes /metrics to {service_name}")
            for path in paths:
                backend = path["backend"]["service"]
                target = services.get(backend["name"])
                ports = {p.get("name") for p in (target or {}).get("spec", {}).get("ports", [])}
                if target is None or backend["port"].get("name") not in ports:
                    problems.add(name(ingress), f"backend {backend} is no Service port")
                if backend["name"] == service_name and match and host != match.group(1):
                    problems.add(
                        name(ingress), f"host {host} is not {edge}'s public host {match.group(1)}"
                    )


def check_catalogue(docs: list[Doc], problems: Problems) -> None:
    topics = {t["metadata"]["name"]: t for t in of_kind(docs, "KafkaTopic")}
    if set(topics) != set(TOPICS_BY_NAME):
        missing = sorted(set(TOPICS_BY_NAME) - set(topics))
        extra = sorted(set(topics) - set(TOPICS_BY_NAME))
        problems.add("KafkaTopics", f"differ from the catalogue: missing {missing}, extra {extra}")
    for topic_name, doc in topics.items():
        topic = TOPICS_BY_NAME.get(topic_name)
        if topic is None:
            continue
        spec = doc["spec"]
        config = spec.get("config", {})
        wanted = {
            "partitions": topic.partitions,
            "replicas": 3,
            "min.insync.replicas": 2,
            "retention.ms": topic.retention_ms,
            "cleanup.policy": topic.cleanup_policy,
        }
        found = {
            "partitions": spec.get("partitions"),
            "replicas": spec.get("replicas"),
            "min.insync.replicas": int(config.get("min.insync.replicas", 0)),
            "retention.ms": int(config.get("retention.ms", 0)),
            "cleanup.policy": config.get("cleanup.policy"),
        }
        for key, value in wanted.items():
            if found[key] != value:
                problems.add(name(doc), f"{key} is {found[key]}, the catalogue says {value}")

    users = {u["metadata"]["name"]: u for u in of_kind(docs, "KafkaUser")}
    for service in SERVICES:
        user = users.get(gen_strimzi.kafka_user_name(service))
        if user is None:
            continue
        where = name(user)
        if user["spec"] != gen_strimzi.kafka_user(service)["spec"]:
            problems.add(where, "ACLs differ from the ones generated from the catalogue")
        for acl in user["spec"]["authorization"]["acls"]:
            res = acl["resource"]
            if res.get("patternType", "literal") != "literal" or res["type"] == "cluster":
                problems.add(where, f"ACL on {res} is broader than one topic or group")
            if "All" in acl["operations"] or acl.get("type", "allow") != "allow":
                problems.add(where, f"ACL {acl} must allow named operations only")
            if res["type"] == "topic":
                topic = TOPICS_BY_NAME.get(res["name"])
                if topic is None:
                    problems.add(where, f"ACL on unknown topic {res['name']}")
                    continue
                allowed = {topic.producer, *topic.consumers}
                if topic.restricted and service not in allowed:
                    problems.add(where, f"may not touch restricted topic {topic.name}")
                if "Write" in acl["operations"] and service != topic.producer:
                    problems.add(
                        where, f"may not write {topic.name} (produced by {topic.producer})"
                    )
                if "Read" in acl["operations"] and service not in topic.consumers:
                    problems.add(where, f"may not read {topic.name}")
            if res["type"] == "group" and not res["name"].startswith(f"aptt-{service}"):
                problems.add(where, f"may not use consumer group {res['name']}")

    deployments = {d["metadata"]["name"] for d in of_kind(docs, "Deployment")}
    for so in of_kind(docs, "ScaledObject"):
        where = name(so)
        spec = so["spec"]
        if spec["scaleTargetRef"]["name"] not in deployments:
            problems.add(where, f"targets missing Deployment {spec['scaleTargetRef']['name']}")
        partitions = []
        for trigger in spec["triggers"]:
            topic = TOPICS_BY_NAME.get(trigger["metadata"].get("topic", ""))
            if topic is None:
                problems.add(where, f"trigger on unknown topic {trigger['metadata'].get('topic')}")
                continue
            partitions.append(topic.partitions)
            if trigger["metadata"].get("allowIdleConsumers", "false") != "false":
                problems.add(where, "allowIdleConsumers would scale past the partitions")
        if partitions and spec.get("maxReplicaCount", 100) > max(partitions):
            problems.add(
                where,
                f"maxReplicaCount {spec.get('maxReplicaCount')} exceeds the "
                f"{max(partitions)} partitions of its topics",
            )
        if "replicas" in next(
            (
                d["spec"]
                for d in of_kind(docs, "Deployment")
                if d["metadata"]["name"] == spec["scaleTargetRef"]["name"]
            ),
            {},
        ):
            problems.add(where, "its Deployment still sets replicas (KEDA owns them)")


def check_monitoring(docs: list[Doc], problems: Problems) -> None:
    if not of_kind(docs, "PrometheusRule"):
        problems.add("monitoring", "no PrometheusRule")
    boards = [
        cm
        for cm in of_kind(docs, "ConfigMap")
        if cm["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    if len(boards) < 3:
        problems.add("monitoring", f"{len(boards)} dashboard ConfigMaps, expected 3")
    monitors = {m["metadata"]["name"] for m in of_kind(docs, "ServiceMonitor")}
    for component in (*SERVICES, *EDGES):
        if f"aptt-{component}" not in monitors:
            problems.add("monitoring", f"no ServiceMonitor aptt-{component}")
    for mdb in of_kind(docs, "MongoDBCommunity"):
        if mdb["spec"].get("members") != 3:
            problems.add(name(mdb), "must have three members")
        users = {u["name"]: u for u in mdb["spec"].get("users", [])}
        for component in WITH_DATABASE:
            user = users.get(f"aptt-{component}")
            roles = [(r["name"], r["db"]) for r in (user or {}).get("roles", [])]
            if roles != [("readWrite", f"aptt_{component}")]:
                problems.add(
                    name(mdb),
                    f"user aptt-{component} must have readWrite on aptt_{component} only, "
                    f"has {roles}",
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rendered", type=Path)
    parser.add_argument("--builtin-out", type=Path, required=True)
    args = parser.parse_args(argv)
    docs: list[Doc] = [d for d in yaml.safe_load_all(args.rendered.read_text()) if d]
    builtin = [d for d in docs if d["apiVersion"] in BUILTIN_GROUPS]
    args.builtin_out.write_text("---\n".join(yaml.safe_dump(d, sort_keys=False) for d in builtin))
    problems = Problems()
    check_custom_resources(docs, problems)
    for dep in of_kind(docs, "Deployment"):
        check_deployment(dep, docs, problems)
    check_secrets(docs, problems)
    check_services(docs, problems)
    check_network_policies(docs, problems)
    check_edges(docs, problems)
    check_catalogue(docs, problems)
    check_monitoring(docs, problems)
    for problem in problems:
        print(f"  FAIL {problem}", file=sys.stderr)
    if problems:
        return 1
    print(
        f"{len(docs)} resources ({len(docs) - len(builtin)} custom) follow the platform's "
        f"rules; topics, ACLs and autoscalers match the catalogue ({len(TOPICS)} topics)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
