import Hummingbird
import Logging
import NIOCore
import mdb

/// Turns every error into the API's error shape. Bad input never becomes a
/// 500 or a stack trace; a real failure is logged and answered with a plain 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = MRequestContext

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as MDBError {
            throw APIError(error)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "too_large", "the request body is larger than \(WebDefaults.maxBodyBytes) bytes")
        } catch let error as any HTTPResponseError {
            throw APIError(error)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError(.internalServerError, "internal", "mweb failed to answer; its log has the details")
        }
    }
}
