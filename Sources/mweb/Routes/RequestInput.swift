import Foundation
import Hummingbird
import mdb

/// Reading what a client sent: bodies under a size limit, query values and
/// path ids, each refused with a status and a message that says what to fix.
enum RequestInput {
    /// The body parsed as a JSON object. A declared length over the limit is
    /// refused before anything is read; an undeclared one stops being read at
    /// the limit (413). Malformed JSON is a 400; JSON that is not an object, a 422.
    static func jsonObject(_ request: Request) async throws -> JSONValue {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > WebDefaults.maxBodyBytes {
            throw APIError(.contentTooLarge, "too_large", "the request body is larger than \(WebDefaults.maxBodyBytes) bytes")
        }
        let buffer = try await request.body.collect(upTo: WebDefaults.maxBodyBytes)
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("the body is not valid JSON; send a JSON object with Content-Type: application/json")
        }
        guard case .object = value else { throw APIError.invalid("the body must be a JSON object") }
        return value
    }

    /// A non-negative integer query value, `fallback` when absent; 400 when not a number.
    static func integer(_ request: Request, _ name: String, fallback: Int64) throws -> Int64 {
        guard let text = request.uri.queryParameters[name[...]].map(String.init) else { return fallback }
        guard let value = Int64(text), value >= 0 else {
            throw APIError.badRequest("query value \(name)=\(text) must be a non-negative integer")
        }
        return value
    }

    /// `limit`, clamped to 1...maxListLimit.
    static func limit(_ request: Request, fallback: Int) throws -> Int {
        let value = try integer(request, "limit", fallback: Int64(fallback))
        return Int(max(1, min(value, Int64(WebDefaults.maxListLimit))))
    }

    /// The `{id}` path parameter as a positive integer (400 otherwise).
    static func id(_ context: MRequestContext, _ name: String = "id") throws -> Int64 {
        let text = context.parameters.get(name) ?? ""
        guard let id = Int64(text), id > 0 else { throw APIError.badRequest("\(name) must be a positive integer, not '\(text)'") }
        return id
    }
}

extension JSONValue {
    /// An optional string field: nil when absent or null, 422 when another type.
    func string(_ key: String) throws -> String? {
        switch self[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw APIError.invalid("`\(key)` must be a string")
        }
    }

    /// An optional boolean field: nil when absent or null, 422 when another type.
    func bool(_ key: String) throws -> Bool? {
        switch self[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw APIError.invalid("`\(key)` must be true or false")
        }
    }
}

/// JSON responses from pre-encoded text (events are encoded once, as stored).
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        text(value.text, status: status)
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
