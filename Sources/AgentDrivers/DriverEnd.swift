/// How a conversation ended, for the host to settle the run's status.
public enum DriverEnd: Sendable, Equatable {
    /// It ended as asked (`eof`) or the agent left between turns: the agent's exit status decides.
    case finished
    /// The run was canceled.
    case canceled
    /// The agent exited (or broke its protocol) in the middle of a turn: the run failed.
    case failed(String)
}
