import Foundation
import Logging

/// One line per operation (gc, backup, restore) with its figures as metadata,
/// for the journal under systemd or a cron mail: written to stderr when stderr
/// is not a terminal. On a terminal the command's own output already says it.
enum OperationLog {
    private static let logger = Logger(label: "mcli") { StreamLogHandler.standardError(label: $0) }

    /// Logs `message` at info level with `metadata`.
    static func info(_ message: String, _ metadata: Logger.Metadata) {
        guard isatty(2) == 0 else { return }
        logger.info("\(message)", metadata: metadata)
    }
}
