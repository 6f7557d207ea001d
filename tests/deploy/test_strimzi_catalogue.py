"""The Kafka topics, users (ACLs) and lag autoscalers committed under deploy/k8s/components are
exactly what deploy/checks/gen_strimzi.py generates from the contracts catalogue."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from aptt_contracts.catalogue import EVENT_TOPICS, SERVICES, TOPICS, TOPICS_BY_NAME

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    path = ROOT / "deploy" / "checks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"deploy_checks_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen_strimzi = _load("gen_strimzi")
gen_monitoring = _load("gen_monitoring")


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_committed_strimzi_and_keda_manifests_match_the_catalogue() -> None:
    problems = gen_strimzi.drift()
    assert not problems, "run `uv run --frozen python deploy/checks/gen_strimzi.py`:\n" + "\n".join(
        problems
    )


def test_committed_monitoring_component_matches_deploy_observability() -> None:
    problems = gen_monitoring.drift()
    assert not problems, "run `uv run --frozen python deploy/checks/gen_monitoring.py`"


def test_one_topic_per_catalogue_entry_with_production_durability() -> None:
    topics = {d["metadata"]["name"]: d for d in _docs(gen_strimzi.STRIMZI_DIR / "topics.yaml")}
    assert set(topics) == {t.name for t in TOPICS}
    for name, doc in topics.items():
        topic = TOPICS_BY_NAME[name]
        assert doc["spec"]["partitions"] == topic.partitions
        assert doc["spec"]["replicas"] == 3
        assert doc["spec"]["config"]["min.insync.replicas"] == 2
        assert doc["spec"]["config"]["retention.ms"] == topic.retention_ms
        assert doc["spec"]["config"]["cleanup.policy"] == topic.cleanup_policy


def _acls(service: str) -> list[dict[str, Any]]:
    acls: list[dict[str, Any]] = gen_strimzi.kafka_user(service)["spec"]["authorization"]["acls"]
    return acls


@pytest.mark.parametrize("service", SERVICES)
def test_users_touch_only_what_the_catalogue_gives_them(service: str) -> None:
    for acl in _acls(service):
        resource = acl["resource"]
        assert resource["patternType"] == "literal"
        assert "All" not in acl["operations"]
        if resource["type"] == "group":
            assert resource["name"] in gen_strimzi.consumer_groups(service)
            continue
        assert resource["type"] == "topic"
        topic = TOPICS_BY_NAME[resource["name"]]
        if "Write" in acl["operations"]:
            assert topic.producer == service
        if "Read" in acl["operations"]:
            assert service in topic.consumers


@pytest.mark.parametrize("service", SERVICES)
def test_restricted_topics_are_reachable_only_by_their_producer_and_readers(service: str) -> None:
    touched = {acl["resource"]["name"] for acl in _acls(service)}
    for topic in TOPICS:
        if topic.restricted and service != topic.producer and service not in topic.consumers:
            assert topic.name not in touched, f"{service} may touch {topic.name}"


def test_only_notify_reads_contacts_and_private_numbers() -> None:
    for name in ("aptt.data.contacts.v1", "aptt.data.private-numbers.v1"):
        readers = {
            s
            for s in SERVICES
            for acl in _acls(s)
            if acl["resource"]["name"] == name and "Read" in acl["operations"]
        }
        writers = {
            s
            for s in SERVICES
            for acl in _acls(s)
            if acl["resource"]["name"] == name and "Write" in acl["operations"]
        }
        assert readers == {"notify"}
        assert writers == {"data"}


def test_every_consumer_scales_on_lag_but_never_past_the_partitions() -> None:
    scaled = {
        d["metadata"]["name"]: d
        for d in _docs(gen_strimzi.KEDA_DIR / "scaledobjects.yaml")
        if d["kind"] == "ScaledObject"
    }
    for service in SERVICES:
        consumed = [t for t in EVENT_TOPICS if service in t.consumers]
        if not consumed:
            continue
        spec = scaled[f"aptt-{service}-worker"]["spec"]
        assert spec["maxReplicaCount"] <= max(t.partitions for t in consumed)
        assert {t["metadata"]["topic"] for t in spec["triggers"]} == {t.name for t in consumed}
        for trigger in spec["triggers"]:
            assert trigger["metadata"]["consumerGroup"] == f"aptt-{service}"
            assert trigger["metadata"]["allowIdleConsumers"] == "false"
