import Foundation
import mdb

/// Where the built executables are: beside the test bundle, in the same build folder.
public enum Binaries {
    /// The folder holding `mcli`, `mexec`, `mweb` and the test helpers.
    public static let directory: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // swift test runs `<bin>/MPackageTests.xctest` (a file on Linux, a bundle elsewhere).
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("mcli").path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url
    }()

    /// The full path of a built executable.
    public static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

/// A temporary folder with a fresh database path in it, removed at deinit.
public final class TempDir: @unchecked Sendable {
    /// The folder.
    public let path: String

    public init(_ prefix: String = "m-test") {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    /// A path inside the folder.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// The database path (`m.db` in the folder).
    public var dbPath: String { file("m.db") }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The result of a finished child process.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs executables and waits for conditions, for end-to-end tests.
public enum Exec {
    /// Runs a built executable (or an absolute path) to completion and captures its output.
    @discardableResult
    public static func run(_ name: String, _ args: [String], env: [String: String] = [:], stdin: String? = nil,
                           cwd: String? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: name.hasPrefix("/") ? name : Binaries.path(name))
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        try process.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? inp.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let errData = LockedBox(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// Starts a built executable in the background; the caller terminates it.
    public static func start(_ name: String, _ args: [String], env: [String: String] = [:],
                             stdout: FileHandle? = nil, stderr: FileHandle? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: name.hasPrefix("/") ? name : Binaries.path(name))
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = stderr ?? FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
/// Tests await conditions with a deadline instead of sleeping.
public func eventually(timeout: Double = 10, interval: Double = 0.01,
                       _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: interval)
    }
    return try condition()
}

/// A value shared across threads under a lock.
public final class LockedBox<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    public init(_ value: T) { self.value = value }
    public func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    public func set(_ newValue: T) { lock.lock(); value = newValue; lock.unlock() }
    public func mutate<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

/// A git command a test ran that failed, with git's own message.
public struct GitCommandFailed: Error, CustomStringConvertible {
    public let args: [String]
    public let stderr: String
    public var description: String { "git \(args.joined(separator: " ")): \(stderr)" }
}

extension Exec {
    /// Runs the real `git` in `cwd` with a fixed identity and no user or system
    /// config, the way test fixtures build repositories; throws on failure.
    @discardableResult
    public static func git(_ cwd: String, _ args: [String]) throws -> String {
        let r = try run("/usr/bin/env", ["git", "-C", cwd] + args, env: [
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_AUTHOR_NAME": "Fixture", "GIT_AUTHOR_EMAIL": "fixture@example.com",
            "GIT_COMMITTER_NAME": "Fixture", "GIT_COMMITTER_EMAIL": "fixture@example.com",
        ])
        guard r.status == 0 else { throw GitCommandFailed(args: args, stderr: r.stderr) }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
