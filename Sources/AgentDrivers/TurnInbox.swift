import mdb

/// The run's inputs as turns: texts typed while a turn runs wait for the next turn (with a notice
/// saying so), `eof` ends the conversation after the queued prompts, a cancel ends it at once and
/// calls the driver's cancel action (stop the current turn). One task pumps the host's stream in;
/// the driver's conversation loop takes prompts out with `next()`.
public final class TurnInbox: Sendable {
    /// What the conversation does next.
    public enum Next: Sendable, Equatable {
        /// Send this prompt as the next turn.
        case prompt(String)
        /// The conversation is over (`eof` after the queued prompts, or the agent left).
        case end
        /// The run was canceled.
        case cancel
    }

    private struct State {
        var queued: [String] = []
        var eof = false
        var canceled = false
        var agentGone = false
        var inTurn = false
        var waiter: CheckedContinuation<Next, Never>?
        var onCancel: (@Sendable () async -> Void)?
    }

    private let state = Locked(State())
    private let host: any DriverHost

    /// An inbox for `host`'s inputs.
    public init(host: any DriverHost) { self.host = host }

    /// Reads the host's inputs until the stream ends or the task is canceled.
    public func pump() async {
        for await input in host.inputs {
            switch input {
            case .text(let text):
                let inTurn = state.withLock { state -> Bool in
                    state.queued.append(text)
                    return state.inTurn
                }
                if inTurn {
                    await host.emit("notice", ["level": "info", "text": "input queued: the agent gets it when its current turn ends"])
                }
            case .eof:
                state.withLock { $0.eof = true }
            case .cancel:
                let action = state.withLock { state -> (@Sendable () async -> Void)? in
                    state.canceled = true
                    return state.inTurn ? state.onCancel : nil
                }
                await action?()
            }
            wake()
        }
    }

    /// What to do to stop a running turn when a cancel comes (for example, send `session/cancel`).
    public func onCancel(_ action: @escaping @Sendable () async -> Void) {
        state.withLock { $0.onCancel = action }
    }

    /// The agent closed its stdout: nothing more can be asked of it.
    public func agentExited() {
        state.withLock { $0.agentGone = true }
        wake()
    }

    /// Marks the turn as running (texts typed now are queued) or finished.
    public func setInTurn(_ running: Bool) {
        state.withLock { $0.inTurn = running }
    }

    /// Whether the run was canceled.
    public var canceled: Bool { state.withLock { $0.canceled } }

    /// The next prompt, or the end of the conversation; waits for input between turns.
    public func next() async -> Next {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Next? in
                if let next = Self.decide(&state) { return next }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func wake() {
        let resumed = state.withLock { state -> (CheckedContinuation<Next, Never>, Next)? in
            guard let waiter = state.waiter, let next = Self.decide(&state) else { return nil }
            state.waiter = nil
            return (waiter, next)
        }
        if let (waiter, next) = resumed { waiter.resume(returning: next) }
    }

    private static func decide(_ state: inout State) -> Next? {
        if state.canceled { return .cancel }
        if state.agentGone { return .end }
        if !state.queued.isEmpty { return .prompt(state.queued.removeFirst()) }
        if state.eof { return .end }
        return nil
    }
}
