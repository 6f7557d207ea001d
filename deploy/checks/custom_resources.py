"""Structural schemas of the custom resources the overlays render.

kubernetes-validate knows the built-in kinds only. These JSON Schemas cover the fields of the
operators' CRDs that this repository uses (Strimzi kafka.strimzi.io/v1, KEDA keda.sh/v1alpha1,
Prometheus Operator monitoring.coreos.com/v1, MongoDB Controllers for Kubernetes
mongodbcommunity.mongodb.com/v1), written from the operators' reference documentation. They
are strict where this repository writes the fields (unknown keys are errors, so a typo does
not pass silently) and open where the operator passes a block through (Kafka config, a
StatefulSet override).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def obj(properties: Schema, required: tuple[str, ...] = (), *, strict: bool = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if strict:
        schema["additionalProperties"] = False
    return schema


def arr(items: Schema, min_items: int = 0) -> Schema:
    return {"type": "array", "items": items, "minItems": min_items}


STR: Schema = {"type": "string", "minLength": 1}
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
OPEN: Schema = {"type": "object"}
STR_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
QUANTITY: Schema = {"type": ["string", "integer"]}
RESOURCES = obj(
    {
        "requests": obj({"cpu": QUANTITY, "memory": QUANTITY}),
        "limits": obj({"cpu": QUANTITY, "memory": QUANTITY}),
    }
)
LABEL_SELECTOR = obj(
    {
        "matchLabels": STR_MAP,
        "matchExpressions": arr(
            obj(
                {"key": STR, "operator": STR, "values": arr({"type": "string"})},
                ("key", "operator"),
            )
        ),
    }
)


def resource(api_version: str, kind: str, spec: Schema) -> Schema:
    return obj(
        {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": obj(
                {
                    "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
                    "namespace": STR,
                    "labels": STR_MAP,
                    "annotations": STR_MAP,
                },
                ("name",),
            ),
            "spec": spec,
        },
        ("apiVersion", "kind", "metadata", "spec"),
    )


STRIMZI_OPERATIONS = [
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "AlterConfigs",
    "DescribeConfigs",
    "IdempotentWrite",
    "All",
]

KAFKA_TOPIC = resource(
    "kafka.strimzi.io/v1",
    "KafkaTopic",
    obj(
        {
            "topicName": STR,
            "partitions": {"type": "integer", "minimum": 1},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
            "config": {"type": "object"},
        },
        ("partitions", "replicas"),
    ),
)

KAFKA_USER = resource(
    "kafka.strimzi.io/v1",
    "KafkaUser",
    obj(
        {
            "authentication": obj(
                {"type": {"enum": ["tls", "tls-external", "scram-sha-512"]}}, ("type",)
            ),
            "authorization": obj(
                {
                    "type": {"const": "simple"},
                    "acls": arr(
                        obj(
                            {
                                "type": {"enum": ["allow", "deny"]},
                                "resource": obj(
                                    {
                                        "type": {
                                            "enum": ["topic", "group", "cluster", "transactionalId"]
                                        },
                                        "name": STR,
                                        "patternType": {"enum": ["literal", "prefix"]},
                                    },
                                    ("type",),
                                ),
                                "host": STR,
                                "operations": arr({"enum": STRIMZI_OPERATIONS}, 1),
                            },
                            ("resource", "operations"),
                        )
                    ),
                },
                ("type", "acls"),
            ),
        }
    ),
)

NETWORK_POLICY_PEER = obj({"podSelector": LABEL_SELECTOR, "namespaceSelector": LABEL_SELECTOR})

KAFKA = resource(
    "kafka.strimzi.io/v1",
    "Kafka",
    obj(
        {
            "kafka": obj(
                {
                    "version": STR,
                    "metadataVersion": STR,
                    "listeners": arr(
                        obj(
                            {
                                "name": {"type": "string", "pattern": "^[a-z0-9]{1,11}$"},
                                "port": {"type": "integer", "minimum": 9092},
                                "type": {
                                    "enum": [
                                        "internal",
                                        "route",
                                        "loadbalancer",
                                        "nodeport",
                                        "ingress",
                                        "cluster-ip",
                                    ]
                                },
                                "tls": BOOL,
                                "authentication": obj(
                                    {"type": {"enum": ["tls", "scram-sha-512", "oauth", "custom"]}},
                                    ("type",),
                                    strict=False,
                                ),
                                "networkPolicyPeers": arr(NETWORK_POLICY_PEER),
                                "configuration": OPEN,
                            },
                            ("name", "port", "type", "tls"),
                        ),
                        1,
                    ),
                    "authorization": obj({"type": STR}, ("type",), strict=False),
                    "config": OPEN,
                    "metricsConfig": OPEN,
                    "template": OPEN,
                    "rack": OPEN,
                },
                ("listeners",),
            ),
            "entityOperator": obj(
                {
                    "topicOperator": obj({"resources": RESOURCES}, strict=False),
                    "userOperator": obj({"resources": RESOURCES}, strict=False),
                    "template": OPEN,
                }
            ),
            "cruiseControl": OPEN,
            "kafkaExporter": OPEN,
            "clusterCa": OPEN,
            "clientsCa": OPEN,
        },
        ("kafka",),
    ),
)

KAFKA_NODE_POOL = resource(
    "kafka.strimzi.io/v1",
    "KafkaNodePool",
    obj(
        {
            "replicas": {"type": "integer", "minimum": 0},
            "roles": arr({"enum": ["controller", "broker"]}, 1),
            "storage": obj(
                {
                    "type": {"enum": ["jbod", "persistent-claim", "ephemeral"]},
                    "volumes": arr(
                        obj(
                            {
                                "id": INT,
                                "type": {"enum": ["persistent-claim", "ephemeral"]},
                                "size": STR,
                                "class": STR,
                                "deleteClaim": BOOL,
                                "kraftMetadata": {"const": "shared"},
                            },
                            ("type",),
                        )
                    ),
                },
                ("type",),
            ),
            "resources": RESOURCES,
            "jvmOptions": OPEN,
            "template": OPEN,
        },
        ("replicas", "roles", "storage"),
    ),
)

SCALED_OBJECT = resource(
    "keda.sh/v1alpha1",
    "ScaledObject",
    obj(
        {
            "scaleTargetRef": obj(
                {"apiVersion": STR, "kind": STR, "name": STR, "envSourceContainerName": STR},
                ("name",),
            ),
            "pollingInterval": INT,
            "cooldownPeriod": INT,
            "minReplicaCount": {"type": "integer", "minimum": 0},
            "maxReplicaCount": {"type": "integer", "minimum": 1},
            "advanced": obj(
                {
                    "horizontalPodAutoscalerConfig": obj({"name": STR, "behavior": OPEN}),
                    "restoreToOriginalReplicaCount": BOOL,
                }
            ),
            "triggers": arr(
                obj(
                    {
                        "type": STR,
                        "name": STR,
                        "metadata": STR_MAP,
                        "authenticationRef": obj({"name": STR, "kind": STR}, ("name",)),
                        "metricType": STR,
                    },
                    ("type", "metadata"),
                ),
                1,
            ),
        },
        ("scaleTargetRef", "triggers"),
    ),
)

TRIGGER_AUTHENTICATION = resource(
    "keda.sh/v1alpha1",
    "TriggerAuthentication",
    obj(
        {
            "secretTargetRef": arr(
                obj({"parameter": STR, "name": STR, "key": STR}, ("parameter", "name", "key"))
            ),
            "env": arr(
                obj({"parameter": STR, "name": STR, "containerName": STR}, ("parameter", "name"))
            ),
        }
    ),
)

SERVICE_MONITOR = resource(
    "monitoring.coreos.com/v1",
    "ServiceMonitor",
    obj(
        {
            "selector": LABEL_SELECTOR,
            "namespaceSelector": OPEN,
            "jobLabel": STR,
            "targetLabels": arr(STR),
            "podTargetLabels": arr(STR),
            "endpoints": arr(
                obj(
                    {
                        "port": STR,
                        "path": STR,
                        "scheme": {"enum": ["http", "https"]},
                        "interval": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                        "scrapeTimeout": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                        "honorLabels": BOOL,
                        "relabelings": arr(
                            obj(
                                {
                                    "action": STR,
                                    "sourceLabels": arr(STR),
                                    "targetLabel": STR,
                                    "regex": STR,
                                    "replacement": {"type": "string"},
                                    "separator": {"type": "string"},
                                }
                            )
                        ),
                        "metricRelabelings": arr(OPEN),
                    }
                ),
                1,
            ),
        },
        ("selector", "endpoints"),
    ),
)

PROMETHEUS_RULE = resource(
    "monitoring.coreos.com/v1",
    "PrometheusRule",
    obj(
        {
            "groups": arr(
                obj(
                    {
                        "name": STR,
                        "interval": STR,
                        "rules": arr(
                            obj(
                                {
                                    "alert": STR,
                                    "record": STR,
                                    "expr": STR,
                                    "for": STR,
                                    "keep_firing_for": STR,
                                    "labels": STR_MAP,
                                    "annotations": STR_MAP,
                                },
                                ("expr",),
                            ),
                            1,
                        ),
                    },
                    ("name", "rules"),
                ),
                1,
            )
        },
        ("groups",),
    ),
)

MONGODB_COMMUNITY = resource(
    "mongodbcommunity.mongodb.com/v1",
    "MongoDBCommunity",
    obj(
        {
            "type": {"const": "ReplicaSet"},
            "members": {"type": "integer", "minimum": 0, "maximum": 50},
            "arbiters": INT,
            "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+"},
            "featureCompatibilityVersion": STR,
            "security": obj(
                {
                    "authentication": obj(
                        {
                            "modes": arr(
                                {"enum": ["SCRAM", "SCRAM-SHA-256", "SCRAM-SHA-1", "X509"]}, 1
                            ),
                            "ignoreUnknownUsers": BOOL,
                        },
                        ("modes",),
                    ),
                    "tls": OPEN,
                    "roles": arr(OPEN),
                }
            ),
            "users": arr(
                obj(
                    {
                        "name": STR,
                        "db": STR,
                        "passwordSecretRef": obj({"name": STR, "key": STR}, ("name",)),
                        "roles": arr(obj({"name": STR, "db": STR}, ("name", "db")), 1),
                        "scramCredentialsSecretName": {
                            "type": "string",
                            "pattern": DNS_SUBDOMAIN,
                        },
                        "connectionStringSecretName": STR,
                        "additionalConnectionStringConfig": OPEN,
                    },
                    ("name", "roles", "scramCredentialsSecretName"),
                )
            ),
            "additionalMongodConfig": OPEN,
            "statefulSet": obj({"spec": OPEN, "metadata": OPEN}, ("spec",)),
            "prometheus": OPEN,
        },
        ("type", "members", "version", "security"),
    ),
)

SCHEMAS: dict[tuple[str, str], Schema] = {
    (s["properties"]["apiVersion"]["const"], s["properties"]["kind"]["const"]): s
    for s in (
        KAFKA_TOPIC,
        KAFKA_USER,
        KAFKA,
        KAFKA_NODE_POOL,
        SCALED_OBJECT,
        TRIGGER_AUTHENTICATION,
        SERVICE_MONITOR,
        PROMETHEUS_RULE,
        MONGODB_COMMUNITY,
    )
}
