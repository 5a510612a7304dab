import Foundation
import MTestSupport
import mdb

/// Real git repositories for the diff tests, and the approvals a run waits on.
extension MexecHarness {
    /// Runs git with a fixed identity and no user config; throws with git's stderr on failure.
    @discardableResult
    func git(_ cwd: String, _ args: String...) throws -> String { try Exec.git(cwd, args) }

    /// A repository at `tmp/name` with one commit holding `files`.
    func fixtureRepo(_ name: String, files: [String: String]) throws -> String {
        let path = tmp.file(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git(path, "init", "--quiet", "--initial-branch=main")
        for (file, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + file)) }
        try git(path, "add", "--all")
        try git(path, "commit", "--quiet", "-m", "fixture")
        return path
    }

    /// Queues a run with a repo, a target, extra environment and a confinement.
    func create(_ command: String, repo: String? = nil, target: String? = nil, env: [String: String]? = nil,
                sandbox: String? = nil) throws -> Int64 {
        try db.createRun(NewRun(title: "test", spec: RunSpec(command: command, env: env, target: target, sandbox: sandbox),
                                repoUrl: repo)).id
    }

    /// Waits for the next pending approval of a run (with an id above `after`).
    func pendingApproval(_ runId: Int64, after: Int64 = 0) throws -> Approval? {
        var found: Approval?
        _ = try eventually(timeout: 60, interval: 0.02) {
            found = try db.approvals(status: .pending, runId: runId).first { $0.id > after }
            return found != nil
        }
        return found
    }

    /// `mcli approve|reject AID [--note N]` on the test database.
    @discardableResult
    func decide(_ verb: String, _ approvalId: Int64, note: String? = nil) throws -> ProcessResult {
        try Exec.run("mcli", [verb, "--db", tmp.dbPath, String(approvalId)] + (note.map { ["--note", $0] } ?? []))
    }

    /// A diff's files as `[path: (status, old_path, binary)]`.
    func files(of diff: Diff) throws -> [String: (status: String, oldPath: String?, binary: Bool)] {
        guard case .array(let items) = try JSONValue.parse(diff.files) else { return [:] }
        var result: [String: (String, String?, Bool)] = [:]
        for item in items {
            result[item["path"]?.stringValue ?? ""] = (item["status"]?.stringValue ?? "", item["old_path"]?.stringValue,
                                                       item["binary"]?.boolValue ?? false)
        }
        return result
    }
}

