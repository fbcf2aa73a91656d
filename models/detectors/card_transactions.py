"""`card-transactions`: the Kaggle creditcard.csv shape (Time, V1..V28, Amount; label Class)."""

from models.schema import Derived, Detector, Field

_PCA = tuple(
    Field(f"V{i}", "number", minimum=-250.0, maximum=250.0, description=f"PCA component {i}")
    for i in range(1, 29)
)

CARD_TRANSACTIONS = Detector(
    name="card-transactions",
    description="Card transactions in the shape of the Kaggle credit-card fraud data set.",
    fields=(
        Field("Time", "number", minimum=0.0, maximum=1e9, description="seconds since the first transaction"),
        *_PCA,
        Field("Amount", "number", minimum=0.0, maximum=1e7, description="transaction amount"),
    ),
    label="Class",
    time_field="Time",
    time_kind="seconds",
    amount_field="Amount",
    derived=(Derived("hour_of_day", "hour_of_day", ("Time",)),),
    fraud_rate=0.00172,
)
