"""docker-compose.yml's shape: no Docker engine runs here, so what can be checked without one is."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_services_health_checks_and_order() -> None:
    services = _compose()["services"]
    assert {"postgres", "rabbitmq", "migrate", "gateway", "lb", "worker", "cli"} <= set(services)
    for name in ("postgres", "rabbitmq", "gateway", "lb", "worker"):
        assert "healthcheck" in services[name], name
    port = services["worker"]["command"][services["worker"]["command"].index("--metrics-port") + 1]
    assert f"127.0.0.1:{port}/healthz" in " ".join(services["worker"]["healthcheck"]["test"])
    assert services["rabbitmq"]["image"].endswith("-management")
    assert services["migrate"]["command"] == ["db", "upgrade"]
    for name in ("gateway", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["rabbitmq"]["condition"] == "service_healthy"


def test_gateways_replicate_behind_the_load_balancer_and_workers_scale() -> None:
    services = _compose()["services"]
    gateway, worker, lb = services["gateway"], services["worker"], services["lb"]
    assert "ports" not in gateway and gateway["deploy"]["replicas"] >= 2  # replicas cannot share a host port
    assert lb["ports"] == ["8000:8080"] and worker["deploy"]["replicas"] >= 2
    config = (REPO / "deploy" / "nginx.conf").read_text()
    assert "server gateway:8000 resolve" in config and "listen 8080" in config
    assert any(v.endswith(":/etc/nginx/nginx.conf:ro") and v.startswith("./deploy/nginx.conf") for v in lb["volumes"])


def test_volumes_for_the_registry_and_a_spool_per_gateway() -> None:
    compose = _compose()
    services = compose["services"]
    assert "registry:/var/lib/arbiter/registry" in services["gateway"]["volumes"]
    assert "registry:/var/lib/arbiter/registry" in services["worker"]["volumes"]
    assert "/var/lib/arbiter/spool" in services["gateway"]["volumes"]  # anonymous: one per replica
    assert {"pgdata", "rabbitdata", "registry"} <= set(compose["volumes"])


def test_env_example_names_every_secret_the_compose_file_requires() -> None:
    compose_text = (REPO / "docker-compose.yml").read_text()
    example = (REPO / ".env.example").read_text()
    for name in ("ARBITER_PII_KEY", "ARBITER_ADMIN_TOKEN", "ARBITER_MESSAGE_KEY"):
        assert f"${{{name}:?" in compose_text and f"{name}=" in example


def test_the_image_creates_the_mounted_directories_owned_by_its_user() -> None:
    """A volume mounted on a directory the image lacks is root-owned: the `arbiter` user could not
    register bundles or spool messages there."""
    lines = " ".join((REPO / "Dockerfile").read_text().replace("\\\n", " ").split())
    env = next(line for line in (REPO / "Dockerfile").read_text().splitlines() if "ARBITER_REGISTRY_DIR=" in line)
    dirs = dict(part.split("=", 1) for part in env.split()[1:])
    made = lines.split("mkdir -p ", 1)[1].split("&&", 1)[0].split()
    assert set(dirs.values()) == {"/var/lib/arbiter/registry", "/var/lib/arbiter/spool"} <= set(made)
    assert "chown -R arbiter:arbiter /var/lib/arbiter" in lines
    assert lines.index("chown -R arbiter:arbiter") < lines.index("USER arbiter")
    mounted = {v.split(":")[-1] for service in _compose()["services"].values() for v in service.get("volumes", [])
               if "/var/lib/arbiter" in v}
    assert mounted <= set(made)  # every mount point the compose file uses exists in the image
    assert "HEALTHCHECK" in lines and "/healthz" in lines.split("HEALTHCHECK", 1)[1]  # the image checks itself


def test_monitoring_profile_mounts_the_shipped_rules_and_dashboard_and_stays_offline() -> None:
    services = _compose()["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"], name  # not started by a plain `up`
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            assert not source.startswith("./") or (REPO / source).exists(), volume
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    assert {job["job_name"] for job in config["scrape_configs"]} == {"arbiter-gateway", "arbiter-worker"}
    assert (REPO / "deploy/prometheus" / config["rule_files"][0]).exists()
    grafana = services["grafana"]["environment"]
    assert grafana["GF_ANALYTICS_REPORTING_ENABLED"] == grafana["GF_ANALYTICS_CHECK_FOR_UPDATES"] == "false"
