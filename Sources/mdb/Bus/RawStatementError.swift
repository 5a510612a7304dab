/// What can go wrong on a raw connection of `RawStatement` (the change watch,
/// the checkpointer, an executor's request check, the writer's request watch).
public enum RawStatementError: Error, CustomStringConvertible, Sendable {
    case cannotOpen(path: String, message: String)
    case cannotPrepare(path: String, message: String)
    case queryFailed(path: String, message: String)
    case checkpointFailed(path: String, message: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let message):
            return "cannot open \(path): \(message); check that the file exists and that this user may read and write it and its folder"
        case .cannotPrepare(let path, let message):
            return "cannot prepare a query on \(path): \(message); is the database migrated by this M (`mcli doctor`)?"
        case .queryFailed(let path, let message):
            return "a query on \(path) failed: \(message); `mcli doctor` checks the database"
        case .checkpointFailed(let path, let message):
            return "cannot checkpoint \(path)'s WAL: \(message); SQLite's own checkpoints go on, `mcli doctor` checks the WAL's size"
        }
    }
}
