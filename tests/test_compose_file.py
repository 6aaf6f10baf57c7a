"""docker-compose.yml is checked statically: no Docker engine runs in CI."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("roster", "issuance", "redemption", "settlement", "notify", "reporting")


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


class TestComposeFile:
    def test_runs_broker_and_postgres(self):
        services = load_compose()["services"]
        assert "broker" in services
        assert "postgres" in services

    def test_every_service_has_its_own_database(self):
        services = load_compose()["services"]
        urls = {}
        for name in SERVICES:
            environment = services[name]["environment"]
            url = environment[f"{name.upper()}_DATABASE_URL"]
            assert url.endswith(f"/{name}")
            urls[name] = url
        assert len(set(urls.values())) == len(SERVICES)

    def test_every_process_reaches_the_broker(self):
        services = load_compose()["services"]
        for name in (*SERVICES, "gateway"):
            assert services[name]["environment"]["AMQP_URI"].startswith("amqp://")
            assert "broker" in services[name]["depends_on"]

    def test_every_process_runs_its_own_module(self):
        services = load_compose()["services"]
        for name in SERVICES:
            module = services[name]["environment"]["SERVICE"]
            assert module == f"services.{name}.service"
            config = ROOT / services[name]["environment"]["SERVICE_CONFIG"]
            assert config.is_file()
        assert services["gateway"]["environment"]["SERVICE"] == "gateway.service"

    def test_images_build_from_deploy(self):
        services = load_compose()["services"]
        for name in (*SERVICES, "gateway"):
            assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (ROOT / "deploy" / "Dockerfile").is_file()

    def test_init_script_creates_each_database(self):
        script = (ROOT / "deploy" / "postgres-init.sql").read_text()
        for name in (*SERVICES, "gateway"):
            assert f"CREATE DATABASE {name};" in script

    def test_redemption_scales_by_a_variable(self):
        deploy = load_compose()["services"]["redemption"]["deploy"]
        assert deploy["replicas"] == "${REDEMPTION_REPLICAS:-1}"
        # Several instances can only share what has no fixed name or port.
        assert "container_name" not in load_compose()["services"]["redemption"]
        assert "ports" not in load_compose()["services"]["redemption"]
