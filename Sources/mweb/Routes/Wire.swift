import mdb

/// The API's JSON for each record: every documented field present (null when
/// unknown), so clients and the OpenAPI document can rely on the shape.
extension JSONValue {
    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    static func optional(_ i: Int64?) -> JSONValue { i.map { .int($0) } ?? .null }
}

extension Run {
    /// The run as the API shows it; `spec` is parsed into an object.
    var api: JSONValue {
        .object([
            ("id", .int(id)), ("title", .string(title)), ("agent", .string(agent)),
            ("status", .string(status.rawValue)), ("exit_code", .optional(exitCode.map(Int64.init))),
            ("workspace", .optional(workspace)), ("sandbox_mode", .string(sandboxMode)),
            ("confinement", .optional(confinement)),
            ("repo_url", .optional(repoUrl)), ("repo_ref", .optional(repoRef)), ("base_commit", .optional(baseCommit)),
            ("created_at", .string(createdAt)), ("started_at", .optional(startedAt)),
            ("finished_at", .optional(finishedAt)), ("cancel_requested_at", .optional(cancelRequestedAt)),
            ("last_seq", .int(lastSeq)), ("spec", (try? JSONValue.parse(spec)) ?? .object([])),
        ])
    }
}

extension Approval {
    /// The approval as the API shows it; `payload` is parsed into an object.
    var api: JSONValue {
        .object([
            ("id", .int(id)), ("run_id", .int(runId)), ("kind", .string(kind)), ("title", .string(title)),
            ("body", .string(body)), ("status", .string(status.rawValue)), ("diff_id", .optional(diffId)),
            ("created_at", .string(createdAt)), ("expires_at", .optional(expiresAt)),
            ("resolved_at", .optional(resolvedAt)), ("resolved_by", .optional(resolvedBy)), ("note", .optional(note)),
            ("always", .bool(always)), ("payload", (try? JSONValue.parse(payload)) ?? .object([])),
        ])
    }
}

extension Diff {
    /// The diff as the API shows it: with `patch` for one diff, without in lists.
    func api(withPatch: Bool) -> JSONValue { wireJSON(withPatch: withPatch) }
}
