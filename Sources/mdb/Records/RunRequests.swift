/// What people asked of a running run, as its executor reads it on each control tick.
public struct RunRequests: Sendable, Equatable {
    /// The run's status.
    public var status: RunStatus
    /// Whether a cancel was requested.
    public var cancelRequested: Bool
    /// Diff requests not yet handled, oldest first.
    public var diffRequests: [DiffRequest]
    /// Input not yet delivered, oldest first (empty unless asked for).
    public var inputs: [Input]
}
