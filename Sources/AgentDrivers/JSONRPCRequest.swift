import mdb

/// A request the agent makes of us: answer it with `respond(to:…)` using its `id`.
public struct JSONRPCRequest: Sendable {
    /// The request's id, echoed in the answer.
    public var id: JSONValue
    /// The method called.
    public var method: String
    /// Its parameters (`null` when none were sent).
    public var params: JSONValue
}
