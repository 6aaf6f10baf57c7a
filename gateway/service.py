"""The gateway service: one nameko @http entrypoint that dispatches the route table."""

import base64
import json
import logging
import time
import uuid

import eventlet
from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from nameko.web.handlers import http
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.exceptions import NotFound as NotFoundRoute
from werkzeug.wrappers import Response

from aixin.clock import ClockNotSet
from aixin.errors import DomainError
from aixin.nameko_kit import BROKER_ERRORS, RPC_DEADLINE_KEY, CampaignClock, Storage
from gateway import routes  # noqa: F401 - registers every route
from gateway.batching import RedemptionBatches, UpstreamTimeout
from gateway.bootstrap import AdminTokenBootstrap
from gateway.calls import Call
from gateway.dashboard import static_response
from gateway.openapi import openapi_document
from gateway.query import load_query
from gateway.routing import PUBLIC, ROUTES, build_map
from gateway.settings import number_setting
from gateway.tokens import CachedTokens, authenticate

log = logging.getLogger(__name__)

HEALTH_CHECKED = ("roster", "issuance", "redemption", "settlement", "reporting",
                  "notify")
HEALTH_TIMEOUT_S = 5
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# Time a request may spend waiting for the services, in seconds. Generous, because a
# roster import of several thousand rows takes tens of seconds on a small machine.
DEFAULT_RPC_TIMEOUT_S = 120.0
# Seconds a client is asked to wait before retrying while RabbitMQ is unreachable.
BROKER_RETRY_AFTER_S = 5
URL_MAP = build_map()


class RpcDeadline(DependencyProvider):
    """Gives each request one absolute deadline that every RPC it makes carries.

    A service drops a request that reaches it after the deadline (see
    ``aixin.nameko_kit``), because the gateway has answered 504 by then and the
    client retries with the same idempotency key.
    """

    def setup(self):
        self.timeout_s = number_setting(self.container.config, "GATEWAY_RPC_TIMEOUT_S",
                                        DEFAULT_RPC_TIMEOUT_S)

    def get_dependency(self, worker_ctx):
        return _WorkerDeadline(worker_ctx, self.timeout_s)


class _WorkerDeadline:
    def __init__(self, worker_ctx, timeout_s: float):
        self.worker_ctx = worker_ctx
        self.timeout_s = timeout_s

    def start(self, correlation_id: str) -> eventlet.Timeout:
        """Stamp the deadline on this worker's RPCs; return the timer that enforces it."""
        # ``context_data`` is a copy; nameko sends the entries of ``data`` as headers.
        self.worker_ctx.data[RPC_DEADLINE_KEY] = time.time() + self.timeout_s
        self.worker_ctx.data["correlation_id"] = correlation_id
        return eventlet.Timeout(self.timeout_s, UpstreamTimeout())


def json_response(status: int, body) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    content_type="application/json; charset=utf-8")


def error_response(status: int, code: str, message: str, **details) -> Response:
    body = {"error": code, "message": message}
    if details:
        body["details"] = details
    return json_response(status, body)


def file_response(document: dict) -> Response:
    """Send a document returned by a service as {filename, content_type, content_b64}."""
    content = base64.b64decode(document["content_b64"])
    filename = document["filename"]
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = (f"attachment; filename=\"{ascii_name}\"; "
                   f"filename*=UTF-8''{_quote(filename)}")
    return Response(content, status=200, content_type=document["content_type"],
                    headers={"Content-Disposition": disposition})


def _quote(text: str) -> str:
    from urllib.parse import quote
    return quote(text, safe="")


class GatewayService:
    name = "gateway"

    db = Storage("gateway", relay=False)
    clock = CampaignClock()
    admin_token = AdminTokenBootstrap()
    rpc_deadline = RpcDeadline()
    tokens = CachedTokens()
    redemption_batches = RedemptionBatches()
    roster = RpcProxy("roster")
    issuance = RpcProxy("issuance")
    redemption = RpcProxy("redemption")
    settlement = RpcProxy("settlement")
    notify = RpcProxy("notify")
    reporting = RpcProxy("reporting")

    @http("GET", "/health")
    def health(self, request):
        """Ask every service for its health over RPC; 503 unless all respond in time."""
        statuses = {}
        for name in HEALTH_CHECKED:
            try:
                with eventlet.Timeout(HEALTH_TIMEOUT_S):
                    statuses[name] = getattr(self, name).health()
            except (eventlet.Timeout, UnknownService, RemoteError) as error:
                statuses[name] = {"status": f"unavailable: {type(error).__name__}"}
        healthy = all(status["status"] == "ok" for status in statuses.values())
        return json_response(200 if healthy else 503, {
            "status": "ok" if healthy else "degraded", "services": statuses})

    @http("GET", "/openapi.json")
    def openapi(self, request):
        return json_response(200, openapi_document())

    @http("GET", "/dashboard")
    def dashboard(self, request):
        """Serve the dashboard page; its scripts read the JSON routes with a token."""
        return static_response("index.html")

    @http("GET", "/dashboard/<path:filename>")
    def dashboard_file(self, request, filename):
        return static_response(filename)

    @http("GET,POST,PUT,PATCH,DELETE", "/v1/<path:path>")
    def api(self, request, path):
        correlation_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        try:
            with self.rpc_deadline.start(correlation_id):
                response = self._dispatch(request, correlation_id)
        except UpstreamTimeout:
            log.error("services timed out correlation_id=%s timeout_s=%.0f",
                      correlation_id, self.rpc_deadline.timeout_s)
            response = error_response(
                504, "upstream_timeout",
                "后台服务响应超时：请稍后用同一个幂等键（Idempotency-Key）重试。",
                request_id=correlation_id)
        except DomainError as error:
            if error.http_status not in (403, 404):  # _dispatch logged those as denials
                log.info("rejected status=%s code=%s method=%s path=%s "
                         "correlation_id=%s", error.http_status, error.code,
                         request.method, request.path, correlation_id)
            response = json_response(error.http_status, error.to_dict())
        except RequestEntityTooLarge:
            response = error_response(
                413, "upload_too_large",
                f"上传文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB：请拆分后分批上传。")
        except NotFoundRoute:
            response = error_response(404, "route_not_found",
                                      "没有这个接口：请核对路径，接口列表见 /openapi.json。")
        except MethodNotAllowed as error:
            response = error_response(
                405, "method_not_allowed",
                f"该接口不支持 {request.method} 方法：可用方法为 "
                f"{'、'.join(error.valid_methods or [])}。")
        except HTTPException as error:
            response = error_response(error.code or 400, "http_error",
                                      error.description or "请求无效。")
        except ClockNotSet:
            response = error_response(
                409, "clock_not_set",
                "模拟时钟尚未设置：请先由管理员调用 PUT /v1/clock 设置活动时间。")
        except UnknownService as error:
            log.error("service unavailable correlation_id=%s error=%s",
                      correlation_id, error)
            response = error_response(503, "service_unavailable",
                                      "后台服务暂不可用：请稍后重试。")
        except BROKER_ERRORS as error:
            log.error("message broker unreachable correlation_id=%s error=%s",
                      correlation_id, error)
            response = error_response(
                503, "broker_unavailable",
                "消息服务暂不可用：请稍后用同一个幂等键（Idempotency-Key）重试。",
                request_id=correlation_id)
            response.headers["Retry-After"] = str(BROKER_RETRY_AFTER_S)
        except RemoteError as error:
            log.error("remote error correlation_id=%s type=%s", correlation_id,
                      error.exc_type)
            response = error_response(502, "upstream_error",
                                      "后台服务处理失败：请稍后重试，或联系管理员并提供请求编号。",
                                      request_id=correlation_id)
        except Exception:  # noqa: BLE001 - never leak internals to a client
            log.exception("unexpected error correlation_id=%s", correlation_id)
            response = error_response(500, "internal_error",
                                      "服务器内部错误：请联系管理员并提供请求编号。",
                                      request_id=correlation_id)
        response.headers["X-Request-Id"] = correlation_id
        return response

    def _dispatch(self, request, correlation_id: str) -> Response:
        request.max_content_length = MAX_UPLOAD_BYTES
        adapter = URL_MAP.bind_to_environ(request.environ)
        index, params = adapter.match()
        route = ROUTES[index]
        principal = self._authenticate(request)
        if PUBLIC not in route.roles:
            if principal is None:
                return error_response(401, "unauthenticated",
                                      "缺少或无效的访问令牌：请在 Authorization 头中提供 Bearer 令牌。")
            if principal.role not in route.roles:
                log.warning("denied role=%s token_id=%s operation=%s correlation_id=%s",
                            principal.role, principal.token_id, route.operation_id,
                            correlation_id)
                return error_response(403, "forbidden", "您的角色无权执行此操作。")
        call = Call(principal=principal, request=request, services=self,
                    correlation_id=correlation_id,
                    idempotency_key=request.headers.get("Idempotency-Key")
                    or f"auto-{uuid.uuid4().hex}",
                    body_schema=route.body,
                    query=load_query(route.query_schema, request.args))
        try:
            result = route.handler(call, **params)
        except DomainError as error:
            if error.http_status in (403, 404):
                # A scope denial looks like "not found" to the caller, so log both.
                log.warning("denied status=%s code=%s role=%s token_id=%s operation=%s "
                            "correlation_id=%s", error.http_status, error.code,
                            call.actor["role"], call.actor["token_id"],
                            route.operation_id, correlation_id)
            raise
        if route.produces_file:
            return file_response(result)
        return json_response(route.status, result)

    def _authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = header[len("Bearer "):].strip()

        def read():
            with self.db.reading() as session:
                return authenticate(session, token)

        return self.tokens.authenticate(token, read)
