"""`GET /dashboard`: the strategists' page, served by the gateway, fully offline (assets served
locally, Chart.js vendored under static/ with its licence)."""
