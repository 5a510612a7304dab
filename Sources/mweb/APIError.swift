import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import mdb

/// An error as the API reports it: a status and `{"error": {"code", "message"}}`
/// whose message tells the caller what to do.
struct APIError: HTTPResponseError, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    static func unauthorized(_ message: String = "send `Authorization: Bearer <token>` (create one with `mcli token create`) or log in with POST /api/v1/session") -> APIError {
        APIError(.unauthorized, "unauthorized", message, headers: [.wwwAuthenticate: "Bearer"])
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static func invalid(_ message: String) -> APIError { APIError(.unprocessableContent, "invalid", message) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var body = "{\"error\":{\"code\":"
        JSONValue.writeString(code, to: &body)
        body += ",\"message\":"
        JSONValue.writeString(message, to: &body)
        body += "}}"
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension APIError {
    /// The API's view of a bus error: which status, which code.
    init(_ error: MDBError) {
        switch error {
        case .runNotFound, .approvalNotFound, .diffNotFound, .tokenNotFound, .notifierNotFound, .outboxItemNotFound,
             .pushSubscriptionNotFound:
            self.init(.notFound, "not_found", error.description)
        case .actionRefused:
            self.init(.forbidden, "forbidden", error.description)
        case .approvalAlreadyResolved:
            self.init(.conflict, "already_resolved", error.description)
        case .runFinished:
            self.init(.conflict, "run_finished", error.description)
        case .invalidArgument(let message):
            self.init(.unprocessableContent, "invalid", message)
        case .leaseLost, .databaseMissing, .notADatabase, .databaseTooNew, .migrationWaitsForRuns:
            self.init(.serviceUnavailable, "unavailable", error.description)
        }
    }

    /// The API's view of a framework error (an unknown route, a body too large).
    init(_ error: any HTTPResponseError) {
        let status = error.status
        let code: String
        switch status.code {
        case 400: code = "bad_request"
        case 401: code = "unauthorized"
        case 403: code = "forbidden"
        case 404: code = "not_found"
        case 405: code = "method_not_allowed"
        case 413: code = "too_large"
        default: code = status.code >= 500 ? "internal" : "error"
        }
        let message: String
        switch status.code {
        case 404: message = "no such route; the API is described at /api/v1/openapi.yaml"
        case 405: message = "this route does not take that method; see /api/v1/openapi.yaml"
        case 413: message = "the request body is larger than \(WebDefaults.maxBodyBytes) bytes"
        default: message = (error as? HTTPError)?.body ?? status.reasonPhrase
        }
        self.init(status.code >= 500 ? .internalServerError : status, code, message)
    }
}
