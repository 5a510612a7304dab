import Foundation
import MTestSupport
import mgit

/// Real git repositories in a temp folder, built with the `git` binary like a person would.
final class GitFixture: @unchecked Sendable {
    let tmp = TempDir("mgit")
    var root: String { tmp.path }

    /// Runs git in `cwd` with a fixed identity and no user config; throws on a non-zero exit.
    @discardableResult
    func git(_ cwd: String, _ args: String...) throws -> String { try Exec.git(cwd, args) }

    func write(_ path: String, _ text: String) throws { try write(path, Data(text.utf8)) }

    func write(_ path: String, _ data: Data) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
    }

    func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    func chmod(_ path: String, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The origin repository: text files, a file to rename, one to delete, an executable script,
    /// one to make executable, and a .gitignore for `*.log`.
    func makeOrigin() throws -> String {
        let origin = root + "/origin"
        try FileManager.default.createDirectory(atPath: origin, withIntermediateDirectories: true)
        try git(origin, "init", "--quiet", "--initial-branch=main")
        try write(origin + "/README.md", "# Fixture\n\nA repository for tests.\n")
        try write(origin + "/src/main.txt", (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n")
        try write(origin + "/old-name.txt", (1...8).map { "unchanging content \($0)" }.joined(separator: "\n") + "\n")
        try write(origin + "/notes.txt", "one\ntwo\nthree\n")
        try write(origin + "/run.sh", "#!/bin/sh\necho run\n")
        try chmod(origin + "/run.sh", 0o755)
        try write(origin + "/tool.sh", "#!/bin/sh\necho tool\n")
        try write(origin + "/.gitignore", "*.log\n")
        try git(origin, "add", "-A")
        try git(origin, "commit", "--quiet", "-m", "fixture")
        return origin
    }

    /// A clone of `origin` as a run's workspace.
    func cloneWorkspace(of origin: String, name: String = "workspace") throws -> String {
        let workspace = root + "/" + name
        try git(root, "clone", "--quiet", origin, workspace)
        return workspace
    }

    /// Every file under `dir` except `.git`, as path → (bytes or link target, mode).
    func contents(of dir: String) throws -> [String: String] {
        var result: [String: String] = [:]
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: dir) else { return result }
        while let rel = walker.nextObject() as? String {
            if rel == ".git" || rel.hasPrefix(".git/") { walker.skipDescendants(); continue }
            let full = dir + "/" + rel
            var info = stat()
            lstat(full, &info)
            switch info.st_mode & S_IFMT {
            case S_IFLNK: result[rel] = "link:" + (try fm.destinationOfSymbolicLink(atPath: full))
            case S_IFREG:
                let data = fm.contents(atPath: full) ?? Data()
                result[rel] = String(format: "%o:", info.st_mode & 0o777) + data.base64EncodedString()
            default: break
            }
        }
        return result
    }
}


/// A binary file: bytes with NULs, as an image or archive has.
let binaryBytes = Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x00, 0x00, 0x0D, 0x01, 0x02, 0x00, 0xFF, 0xFE, 0x00])

let approver = try! GitIdentity(name: "Ada Approver", email: "ada@example.com")
