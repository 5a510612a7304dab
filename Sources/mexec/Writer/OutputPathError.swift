/// Why the output path (the shared writer, an executor's link to it) cannot be set up.
enum OutputPathError: Error, CustomStringConvertible {
    /// `runs/writer.sock` beside the database does not fit a Unix socket address.
    case socketPathTooLong(databasePath: String)
    /// The system refused a pipe or an epoll instance (`what` needs it; `reason` is strerror's).
    case noDescriptors(what: String, reason: String)

    var description: String {
        switch self {
        case .socketPathTooLong(let path):
            "the database path \(path) is too long for the output writer's socket (runs/writer.sock beside it must stay under 100 bytes): move the database to a shorter path"
        case .noDescriptors(let what, let reason):
            "cannot create \(what): \(reason); raise the open files limit (ulimit -n) or stop some runs"
        }
    }
}
