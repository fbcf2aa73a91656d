"""The HTTP gateway: FastAPI application, routes, auth, metrics."""
