"""Settings from the environment (prefix `ARBITER_`, or a `.env` file); names in CONTRACT.md."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set. Defaults run the embedded, single-process mode."""

    model_config = SettingsConfigDict(env_prefix="ARBITER_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///var/arbiter.db", description="SQLAlchemy URL")
    broker_url: str = Field("memory://", description="amqp://... for RabbitMQ; memory:// embedded")
    registry_dir: Path = Field(Path("var/registry"), description="content-addressed model bundles")
    spool_dir: Path = Field(Path("var/spool"), description="durable outbox while the broker is down")
    governance: Literal["four-eyes", "off"] = Field(
        "four-eyes", description="four-eyes: models are reviewed before shadow, promotions and strategy or rules "
                                 "changes wait for another principal's approval; off (a lab): each takes effect "
                                 "at once, still on record")
    admin_token: SecretStr | None = Field(None, description="bearer token for /admin/*")
    token: SecretStr | None = Field(None, description="the principal's token the command line acts with "
                                                      "(arbiter principals add); unset: recorded as cli:<os user>")
    served_detectors: str | None = Field(None, description="comma-separated detectors this deployment serves: "
                                                           "/readyz needs a champion for these only (default: all)")
    api_keys: str | None = Field(None, description="comma-separated keys for /v1/*")
    pii_key: SecretStr | None = Field(None, description="HMAC key for PII before storage")
    certification_tolerance: float = Field(1e-5, gt=0, description="max |served - training score|")
    promotion_min_shadow: int = Field(1000, ge=0, description="shadow scores a challenger needs before promotion")
    promotion_auc_tolerance: float = Field(0.01, ge=0, le=1, description="how far below the champion's AUC the "
                                                                          "lower bound of the 95% interval may go")
    promotion_min_labelled: int = Field(10_000, ge=0, description="mature labelled applications scored by both "
                                                                  "models a promotion needs")
    promotion_min_frauds: int = Field(100, ge=0, description="labelled frauds among them a promotion needs")
    promotion_rate_tolerance: float = Field(0.25, ge=0, description="how far (relative) the candidate's decline "
                                                                    "and review rates may move from the champion's")
    promotion_min_coverage: float = Field(0.999, ge=0, le=1, description="share of the applications published to "
                                                                         "the candidate it must have scored")
    promotion_min_disparity: float = Field(0.8, ge=0, le=1, description="lowest approval rate over highest among age "
                                                                        "bands and regions (0: no fairness gate)")
    publish: bool = Field(True, description="publish every scored application (recording and shadow mode); "
                                            "false only to measure the gateway without them")
    explanations: bool = Field(True, description="add each model decision's explanation (the inputs that pushed "
                                                  "the score up most) to the response; false only to measure "
                                                  "the gateway without them")
    explanation_top: str = Field("3", pattern=r"^\s*(\d+|[\w.-]+\s*=\s*\d+)(\s*,\s*(\d+|[\w.-]+\s*=\s*\d+))*\s*$",
                                 description="inputs an explanation names: a number for every detector, or "
                                             "detector=number pairs (card-applications=5,3: 5 there, 3 elsewhere)")
    evidence: bool = Field(True, description="count decisions, shadow scores and labels in the evidence aggregates "
                                             "as they are stored; false only to measure the workers without them")
    retention: str = Field("13mo", pattern=r"^\d+\s*(mo|months?)?$",
                           description="months of raw rows `arbiter retention apply` keeps (the aggregates stay)")
    message_key: SecretStr | None = Field(None, description="AES-GCM key material for message bodies on the broker")
    worker_batch_size: int = Field(200, ge=1, le=10_000, description="messages a worker scores and commits at once")
    worker_max_wait: float = Field(0.2, gt=0, le=60, description="seconds a worker waits to fill a batch")
    worker_max_attempts: int = Field(3, ge=1, le=100, description="failures before a message is dead-lettered")
    publish_capacity: int = Field(100_000, ge=100, description="messages the gateway holds in memory for publishing")
    operations_interval: float = Field(60.0, gt=0, le=3600, description="seconds between the gateway's reads of "
                                       "shadow coverage and drift for /metrics (the alerts' gauges)")
    publisher: Literal["process", "thread"] = Field(
        "process", description="where a gateway process publishes to RabbitMQ: a child process of its own "
                               "(off the gateway's GIL) or a thread; memory:// always uses a thread")

    @property
    def four_eyes(self) -> bool:
        return self.governance == "four-eyes"

    @property
    def served(self) -> frozenset[str] | None:
        """The detectors /readyz requires a champion for (None: every declared one)."""
        names = frozenset(n.strip() for n in (self.served_detectors or "").split(",") if n.strip())
        return names or None

    def top_reasons(self, detector: str) -> int:
        """How many inputs an explanation of `detector`'s decisions names (ARBITER_EXPLANATION_TOP)."""
        default, named = 3, {}
        for part in self.explanation_top.split(","):
            name, _, count = part.rpartition("=")
            if name.strip():
                named[name.strip()] = int(count)
            else:
                default = int(count)
        return named.get(detector, default)

    @property
    def api_key_set(self) -> frozenset[str]:
        return frozenset(k.strip() for k in (self.api_keys or "").split(",") if k.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
