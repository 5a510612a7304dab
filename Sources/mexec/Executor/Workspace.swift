import Foundation
import mdb

/// Why a run's workspace could not be prepared; the text ends up in a `notice`.
struct WorkspaceError: Error, CustomStringConvertible {
    var description: String
}

/// A run's own directory, `<root>/<run id>`, optionally a clone of a repo.
enum Workspace {
    /// Creates the workspace (cloning `repoUrl` into it and checking out
    /// `repoRef` when given) and returns its path and the commit it starts at.
    static func prepare(root: String, runId: Int64, repoUrl: String?, repoRef: String?) throws -> (path: String, baseCommit: String?) {
        let path = (root as NSString).appendingPathComponent(String(runId))
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw WorkspaceError(description: "cannot create the workspaces root \(root): \(error.localizedDescription)")
        }
        if let existing = try? fm.contentsOfDirectory(atPath: path), !existing.isEmpty {
            throw WorkspaceError(description: "the workspace \(path) already exists and is not empty; move it away and create the run again")
        }
        guard let repoUrl else {
            do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw WorkspaceError(description: "cannot create the workspace \(path): \(error.localizedDescription)")
            }
            return (path, nil)
        }
        // `--` keeps user text from ever being read as a git option (mdb also
        // refuses urls and refs starting with '-').
        try git(["clone", "--quiet", "--", repoUrl, path], in: root, what: "git clone of \(repoUrl)")
        if let repoRef {
            try git(["checkout", "--quiet", "--detach", repoRef, "--"], in: path, what: "git checkout of \(repoRef)")
        }
        let head = try git(["rev-parse", "HEAD"], in: path, what: "git rev-parse HEAD")
        return (path, head.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Runs git without a terminal or credential prompts (a clone that would
    /// ask for a password fails at once instead of hanging); returns stdout.
    @discardableResult
    static func git(_ args: [String], in directory: String, what: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
        env["GIT_ASKPASS"] = "/bin/false"
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw WorkspaceError(description: "\(what) failed: cannot run git (\(error.localizedDescription)); install git")
        }
        // Both pipes are read at once so a chatty git never blocks on a full one.
        let errData = LockedResult<Data>()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while errData.get() == nil { usleep(1_000) }
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errData.get() ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw WorkspaceError(description: "\(what) failed (exit \(process.terminationStatus)): \(message.suffix(2_000))")
        }
        return String(decoding: outData, as: UTF8.self)
    }
}
