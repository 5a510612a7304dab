/// The diff object of the API and `mcli diff --json`.
extension Diff {
    /// `{id, run_id, base, message, files: [{path, status, old_path?, binary, additions, deletions}],
    /// additions, deletions, truncated, status, created_at, applied_at, patch?}`; `files` parsed,
    /// `patch` only when asked for (one diff, not lists).
    public func wireJSON(withPatch: Bool) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .int(id)), ("run_id", .int(runId)), ("base", base.map { .string($0) } ?? .null),
            ("message", .string(message)), ("files", (try? JSONValue.parse(files)) ?? .array([])),
            ("additions", .int(Int64(additions))), ("deletions", .int(Int64(deletions))),
            ("truncated", .bool(truncated)), ("status", .string(status)), ("created_at", .string(createdAt)),
            ("applied_at", appliedAt.map { .string($0) } ?? .null),
        ]
        if withPatch { fields.append(("patch", .string(patch))) }
        return .object(fields)
    }
}
