import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The paths an agent names (ACP's `fs/*` and terminals' `cwd`), held inside the run's workspace.
/// Refused: a `..` component, an absolute path outside the workspace, a sibling that only shares a
/// prefix (`/ws-other` for `/ws`), and a symlink (anywhere on the path) that leads out. A relative
/// path is taken from the workspace. Files are then opened with `O_NOFOLLOW`, so a symlink swapped
/// in after the check is not followed either.
public struct WorkspaceConfinement: Sendable {
    /// The workspace as the host named it (lexically normalised).
    public let workspace: String
    /// The workspace with every symlink resolved.
    public let realWorkspace: String

    /// Confinement to `workspace`, which must exist.
    public init(workspace: String) throws {
        let lexical = try Self.normalise(workspace, base: "/", original: workspace)
        guard let real = Self.realPath(lexical) else {
            throw DriverError.outsideWorkspace(path: workspace, reason: "the workspace does not exist")
        }
        self.workspace = lexical
        self.realWorkspace = real
    }

    /// The real path `path` names, inside the workspace (it need not exist yet: its deepest existing
    /// ancestor is resolved and checked); throws `DriverError.outsideWorkspace` otherwise.
    public func resolve(_ path: String) throws -> String {
        guard !path.isEmpty else { throw DriverError.outsideWorkspace(path: path, reason: "the path is empty") }
        let lexical = try Self.normalise(path, base: workspace, original: path)
        guard Self.isInside(lexical, workspace) || Self.isInside(lexical, realWorkspace) else {
            throw DriverError.outsideWorkspace(path: path, reason: "it is not inside the workspace \(workspace)")
        }
        // Resolve symlinks on the part that exists; what does not exist yet cannot be a link.
        var existing = lexical
        var missing: [String] = []
        var real = Self.realPath(existing)
        while real == nil, existing != "/" {
            missing.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
            real = Self.realPath(existing)
        }
        guard let real else { throw DriverError.outsideWorkspace(path: path, reason: "it cannot be resolved") }
        guard Self.isInside(real, realWorkspace) else {
            throw DriverError.outsideWorkspace(path: path, reason: "a symlink on it leads outside the workspace")
        }
        return missing.reduce(real) { $0 == "/" ? "/" + $1 : $0 + "/" + $1 }
    }

    /// Reads a text file inside the workspace (not following a final symlink).
    public func read(_ path: String) throws -> String {
        let real = try resolve(path)
        let fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw DriverError.invalidRequest("cannot read \(path): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let data = (try? handle.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes a text file inside the workspace, creating it and its missing folders.
    public func write(_ path: String, content: String) throws {
        let real = try resolve(path)
        let parent = (real as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        // The folders just made are inside (checked above); check the whole path again after making them.
        guard try resolve(real) == real else {
            throw DriverError.outsideWorkspace(path: path, reason: "it changed while it was being written")
        }
        let fd = open(real, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DriverError.invalidRequest("cannot write \(path): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try handle.write(contentsOf: Data(content.utf8))
    }

    /// An absolute, lexically normal path without `.`; a `..` anywhere is refused (never resolved).
    static func normalise(_ path: String, base: String, original: String) throws -> String {
        let full = path.hasPrefix("/") ? path : base + "/" + path
        var parts: [Substring] = []
        for part in full.split(separator: "/") where part != "." {
            guard part != ".." else {
                throw DriverError.outsideWorkspace(path: original, reason: "it contains '..'")
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `path` is `root` or below it (not merely sharing its prefix).
    static func isInside(_ path: String, _ root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
