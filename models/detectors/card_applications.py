"""`card-applications`: credit-card applications with PII (the ThoughtWorks seed's case)."""

from models.schema import Derived, Detector, Field

EMPLOYMENT = ("employed", "self-employed", "unemployed", "student", "retired")
CHANNELS = ("web", "mobile", "branch", "partner")

CARD_APPLICATIONS = Detector(
    name="card-applications",
    description="Credit-card applications: identity (PII), finances and how they were submitted.",
    fields=(
        Field("full_name", "text", pii=True, max_length=200),
        Field("email", "text", pii=True, max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"),
        Field("ssn", "text", pii=True, max_length=11, pattern=r"^\d{3}-?\d{2}-?\d{4}$"),
        Field("phone", "text", pii=True, required=False, max_length=20, pattern=r"^\+?[0-9 ()\-.]{7,20}$"),
        Field("date_of_birth", "date", pii=True),
        Field("zip", "text", pii=True, max_length=10, pattern=r"^\d{5}(-\d{4})?$"),
        Field("ip", "ip", pii=True),
        Field("device_id", "text", pii=True, max_length=128),
        Field("income", "number", required=False, minimum=0.0, maximum=1e8, description="yearly income"),
        Field("employment", "category", choices=EMPLOYMENT),
        Field("requested_limit", "number", minimum=0.0, maximum=1e7),
        Field("channel", "category", choices=CHANNELS),
        Field("submitted_at", "datetime"),
    ),
    label="is_fraud",
    time_field="submitted_at",
    time_kind="datetime",
    amount_field="requested_limit",
    derived=(
        Derived("email_domain", "email_domain", ("email",)),
        Derived("zip_ip_distance_km", "geo_distance_km", ("zip", "ip")),
        Derived("ssn_reuse", "reuse_count", ("ssn",)),
        Derived("device_reuse", "reuse_count", ("device_id",)),
        Derived("age_years", "age_years", ("date_of_birth", "submitted_at")),
        Derived("hour_of_day", "hour_of_day", ("submitted_at",)),
    ),
    fraud_rate=0.02,
)
