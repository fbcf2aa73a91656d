"""The baseline for the gateway benchmark: parses the same body, returns a constant."""

import json

from fastapi import FastAPI, Request

app = FastAPI()
CONSTANT = {"application_id": "x", "detector": "card-transactions", "score": 0.0, "decision": "approve",
            "reasons": [], "model": None, "strategy_version": 1, "elapsed_ms": 0.0}


@app.post("/v1/detectors/{detector}/score")
async def score(detector: str, request: Request) -> dict:
    json.loads(await request.body())
    return CONSTANT
