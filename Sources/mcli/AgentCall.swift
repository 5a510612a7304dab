import Foundation
import magent

/// One blocking request on the run's agent socket, kept off the cooperative pool.
enum AgentCall {
    /// Sends `request` and returns an `ok` response; anything else becomes a `CLIError` (exit 2).
    static func send(_ request: AgentRequest, client: AgentClient) async throws -> AgentResponse {
        let response: AgentResponse
        do {
            // The call blocks for as long as the person takes: a thread of its own, not a pool thread.
            response = try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Result { try client.send(request) }) }.start()
            }
        } catch {
            throw CLIError(description: "\(error)")
        }
        guard response.ok, response.decision != nil else {
            throw CLIError(description: response.error ?? "the run's executor refused the request")
        }
        return response
    }
}
