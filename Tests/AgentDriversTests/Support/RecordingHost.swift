import AgentDrivers
import Foundation
import MTestSupport
import mdb

/// A `DriverHost` that records what a driver does: every event, every approval it asks for (decided
/// by the test, by `decide`, or canceled by a cancel), inputs the test sends.
final class RecordingHost: DriverHost, @unchecked Sendable {
    /// An approval the driver asked for, and how it ended (nil while pending).
    struct Asked: Sendable {
        var request: ApprovalRequest
        var decision: ApprovalDecision?
    }

    let workspace: String
    let inputs: AsyncStream<DriverInput>
    private let inputContinuation: AsyncStream<DriverInput>.Continuation
    private let lock = NSLock()
    private var recorded: [(type: String, data: JSONValue)] = []
    private var asked: [Asked] = []
    private var waiting: [Int: CheckedContinuation<ApprovalDecision, Never>] = [:]
    /// Decides approvals as they come when set (otherwise they wait for `resolve`).
    private let decide: (@Sendable (ApprovalRequest) -> ApprovalDecision?)?

    init(workspace: String, decide: (@Sendable (ApprovalRequest) -> ApprovalDecision?)? = nil) {
        self.workspace = workspace
        self.decide = decide
        (inputs, inputContinuation) = AsyncStream<DriverInput>.makeStream()
    }

    func emit(_ type: String, _ data: JSONValue) async {
        lock.withLock { recorded.append((type, data)) }
    }

    func requestApproval(_ request: ApprovalRequest) async -> ApprovalDecision {
        let automatic = decide?(request)
        let index = lock.withLock {
            asked.append(Asked(request: request, decision: automatic))
            return asked.count - 1
        }
        if let automatic { return automatic }
        // As M does: a canceled caller's approval becomes `canceled`.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let canceled = lock.withLock { () -> Bool in
                    if Task.isCancelled { return true }
                    waiting[index] = continuation
                    return false
                }
                if canceled { continuation.resume(returning: self.settle(index, ApprovalDecision(status: .canceled))) }
            }
        } onCancel: {
            resolve(index, ApprovalDecision(status: .canceled))
        }
    }

    private func settle(_ index: Int, _ decision: ApprovalDecision) -> ApprovalDecision {
        lock.withLock { asked[index].decision = decision }
        return decision
    }

    func startProcess(_ argv: [String], environment: [String: String], directory: String) throws -> DriverProcess {
        try DriverProcess.start(argv, environment: environment, directory: directory)
    }

    /// Sends an input, `eof` or a cancel (a cancel also cancels every pending approval, as M does).
    func send(_ input: DriverInput) {
        if input == .cancel { cancelPending() }
        inputContinuation.yield(input)
    }

    /// Decides the pending approval at `index`.
    func resolve(_ index: Int, _ decision: ApprovalDecision) {
        lock.lock()
        let continuation = waiting.removeValue(forKey: index)
        if continuation != nil { asked[index].decision = decision }
        lock.unlock()
        continuation?.resume(returning: decision)
    }

    private func cancelPending() {
        lock.lock()
        let pending = waiting
        waiting = [:]
        for index in pending.keys { asked[index].decision = ApprovalDecision(status: .canceled) }
        lock.unlock()
        for continuation in pending.values { continuation.resume(returning: ApprovalDecision(status: .canceled)) }
    }

    var events: [(type: String, data: JSONValue)] { lock.lock(); defer { lock.unlock() }; return recorded }
    var approvals: [Asked] { lock.lock(); defer { lock.unlock() }; return asked }

    /// The events of one type.
    func events(_ type: String) -> [JSONValue] { events.filter { $0.type == type }.map(\.data) }

    /// Every assistant message's text, concatenated.
    var assistantText: String {
        events("agent.message").filter { $0["role"]?.stringValue == "assistant" }.compactMap { $0["text"]?.stringValue }.joined()
    }

    /// Waits (polling, with a deadline) until `condition` holds for this host.
    func wait(timeout: Double = 30, _ what: String, _ condition: @Sendable (RecordingHost) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition(self) {
            guard Date() < deadline else { throw TestTimeout(what: what, events: events.map { "\($0.type) \($0.data.text)" }) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A condition a test waited for did not hold in time; the events so far say what happened instead.
struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    let events: [String]
    var description: String { "timed out waiting for \(what); events:\n" + events.joined(separator: "\n") }
}
