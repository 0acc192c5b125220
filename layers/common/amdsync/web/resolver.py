"""The HTTP API resolver. Routes are registered here; functions/api only adapts the event."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from amdsync.web.routes import BASE_PATH

API_TITLE = "amdsync"
API_VERSION = "0.1.0"


def create_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.get(f"{BASE_PATH}/health", summary="Liveness", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(f"{BASE_PATH}/openapi.json", summary="This API's OpenAPI 3.1 document", tags=["ops"])
    def openapi() -> Response[str]:
        return Response(
            status_code=200,
            content_type="application/json",
            body=json.dumps(openapi_document(app)),
        )

    return app


def openapi_document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The OpenAPI document generated from the routes (committed as docs/openapi.json)."""
    schema = app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION)
    document: dict[str, Any] = json.loads(schema)
    return document
