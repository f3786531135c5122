"""Domain errors: one hierarchy, each with an HTTP status, a stable code and a safe message."""

from __future__ import annotations


class IocError(Exception):
    """Base of every error the platform raises on purpose.

    ``message`` is shown to the user when ``safe`` is true; ``message_en`` is the English text;
    ``parameter`` names the request parameter or field at fault.
    """

    status: int = 500
    code: str = "internal-error"
    title: str = "Lỗi hệ thống"
    safe: bool = False

    def __init__(self, message: str, message_en: str | None = None, parameter: str | None = None):
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message
        self.parameter = parameter
        self.extra: dict[str, object] = {}


class ConfigurationError(IocError):
    """The platform is misconfigured (settings, plug-ins, environment)."""

    code = "configuration-error"
    title = "Cấu hình không hợp lệ"
    safe = True


class EmbeddedDatabaseError(ConfigurationError):
    """The private PostgreSQL cluster could not be created, started or stopped."""

    code = "embedded-database-error"


class DatabaseUnavailableError(IocError):
    """The database cannot be reached."""

    status = 503
    code = "database-unavailable"
    title = "Cơ sở dữ liệu không sẵn sàng"
    safe = True


class QueryTimeoutError(IocError):
    """A query ran past the statement timeout."""

    status = 503
    code = "query-timeout"
    title = "Truy vấn quá thời gian cho phép"
    safe = True


class InvalidParameterError(IocError):
    """A request parameter is malformed or out of range."""

    status = 400
    code = "invalid-parameter"
    title = "Tham số không hợp lệ"
    safe = True


class NotFoundError(IocError):
    """A collection, layer or feature does not exist."""

    status = 404
    code = "not-found"
    title = "Không tìm thấy"
    safe = True


class MethodNotAllowedError(IocError):
    """The resource exists but does not accept this method."""

    status = 405
    code = "method-not-allowed"
    title = "Phương thức không được hỗ trợ"
    safe = True


class ValidationError(IocError):
    """Submitted data breaks a rule of its layer."""

    status = 422
    code = "validation-failed"
    title = "Dữ liệu không hợp lệ"
    safe = True


class AuthenticationError(IocError):
    """No valid credentials: missing, wrong, expired or forged token, locked account."""

    status = 401
    code = "unauthenticated"
    title = "Chưa xác thực"
    safe = True


class PermissionDeniedError(IocError):
    """The caller is known but its role does not allow this."""

    status = 403
    code = "forbidden"
    title = "Không có quyền"
    safe = True


class ConflictError(IocError):
    """The request conflicts with the current state (a name taken, an edit already reviewed)."""

    status = 409
    code = "conflict"
    title = "Xung đột"
    safe = True


class PreconditionFailedError(IocError):
    """The feature changed since the version a write or a pending edit was made against."""

    status = 412
    code = "precondition-failed"
    title = "Phiên bản đã thay đổi"
    safe = True


class PayloadTooLargeError(IocError):
    """The upload is larger than allowed."""

    status = 413
    code = "payload-too-large"
    title = "Dữ liệu gửi lên quá lớn"
    safe = True


class UnsupportedMediaTypeError(IocError):
    """The upload is not of an accepted type (e.g. not an image)."""

    status = 415
    code = "unsupported-media-type"
    title = "Định dạng không được hỗ trợ"
    safe = True


class TooManyRequestsError(IocError):
    """The caller made more requests of a costly kind than allowed in a minute."""

    status = 429
    code = "too-many-requests"
    title = "Quá nhiều yêu cầu"
    safe = True


def invalid_parameter(parameter: str, vi: str, en: str, *, value: str | None = None
                      ) -> InvalidParameterError:
    """400 for a malformed or out-of-range request parameter, in the platform's one wording:
    ``Tham số '<parameter>' không hợp lệ: ['<value>'. ]<vi>``, the English text beside it."""
    shown = "" if value is None else f"'{value}'. "
    return InvalidParameterError(f"Tham số '{parameter}' không hợp lệ: {shown}{vi}",
                                 f"Parameter '{parameter}' is invalid: {shown}{en}", parameter)
