import mdb

/// Where the answer to one request lands: filled once (by the reader), awaited once (by the caller),
/// in either order.
final class ResponseSlot: Sendable {
    private struct State {
        var result: Result<JSONValue, Error>?
        var waiter: CheckedContinuation<JSONValue, Error>?
    }
    private let state = Locked(State())

    /// Delivers the answer (a second delivery is ignored).
    func fill(_ result: Result<JSONValue, Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<JSONValue, Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    /// The answer, once it is there.
    func value() async throws -> JSONValue {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<JSONValue, Error>? in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
