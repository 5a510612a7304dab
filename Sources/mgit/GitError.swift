/// What can go wrong while diffing, approving, rejecting or applying, each with what to do about it.
public enum GitError: Error, Equatable, CustomStringConvertible, Sendable {
    case gitUnavailable(detail: String)
    case commandFailed(command: String, status: Int32, stderr: String)
    case unexpectedOutput(command: String, output: String)
    case pathNotAbsolute(String)
    case notADirectory(String)
    case notACheckout(String)
    case noCommits(String)
    case noApprovedPoint(String)
    case approvedPointMoved(expected: String, actual: String)
    case refMoved(ref: String, detail: String)
    case nothingToApprove
    case unsafePath(path: String, reason: String)
    case invalidIdentity(String)

    public var description: String {
        switch self {
        case .gitUnavailable(let detail):
            return "could not run git (\(detail)); install git (`apt-get install git`) and make sure it is on PATH"
        case .commandFailed(let command, let status, let stderr):
            return "git \(command) failed with status \(status): \(stderr.isEmpty ? "no message" : stderr)"
        case .unexpectedOutput(let command, let output):
            return "git \(command) printed something M does not understand (\(output.prefix(200))); check the git version (2.39 or newer)"
        case .pathNotAbsolute(let path):
            return "\(path) is not an absolute path; pass the full path starting with /"
        case .notADirectory(let path):
            return "\(path) is not a directory; create it or pass an existing workspace"
        case .notACheckout(let path):
            return "\(path) is not the top of a git checkout; pass the folder that holds its .git"
        case .noCommits(let path):
            return "the checkout at \(path) has no commit yet; commit something before using it as a workspace or target"
        case .noApprovedPoint(let path):
            return "the workspace at \(path) has no approved point; start its baseline first (Baseline.start)"
        case .approvedPointMoved(let expected, let actual):
            return "the approved point moved since this diff was made (was \(expected.prefix(12)), now \(actual.prefix(12))); make a fresh diff and approve that"
        case .refMoved(let ref, let detail):
            return "\(ref) changed while M was updating it (\(detail)); make a fresh diff and try again"
        case .nothingToApprove:
            return "the diff is empty: there is nothing to approve"
        case .unsafePath(let path, let reason):
            return "refusing the path \(path.debugDescription): \(reason); nothing was changed"
        case .invalidIdentity(let detail):
            return "invalid author identity (\(detail)); use a plain name and an email without <, > or newlines"
        }
    }
}
