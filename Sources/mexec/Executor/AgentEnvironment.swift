import Foundation
import mdb

/// The clean environment an agent starts with: nothing of the executor's
/// leaks in (least of all the database path: the agent side reaches M only
/// through its socket), only what agents and their tools need.
enum AgentEnvironment {
    /// Builds the environment for run `runId`. `binDirectory` (where mexec and
    /// mcli live) comes first on PATH so that `mcli ask` works in every run.
    static func make(runId: Int64, socketPath: String, binDirectory: String, pty: Bool,
                     extra: [String: String]?, inherited: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var env: [String: String] = [:]
        let basePath = inherited["PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/local/bin:/usr/bin:/bin"
        env["PATH"] = "\(binDirectory):\(basePath)"
        for key in ["HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ"] {
            if let value = inherited[key], !value.isEmpty { env[key] = value }
        }
        if env["HOME"] == nil { env["HOME"] = NSHomeDirectory() }
        if pty { env["TERM"] = inherited["TERM"].flatMap { $0.isEmpty || $0 == "dumb" ? nil : $0 } ?? "xterm-256color" }
        // A name with '=' or NUL cannot be expressed in an environment block.
        for (key, value) in extra ?? [:] where !key.isEmpty && !key.contains("=") && !key.contains("\0") && !value.contains("\0") {
            env[key] = value
        }
        // Set last: a run's own env cannot point its capability elsewhere.
        env[Defaults.runIdEnvironmentVariable] = String(runId)
        env[Defaults.agentSocketEnvironmentVariable] = socketPath
        env.removeValue(forKey: Defaults.databaseEnvironmentVariable)
        return env
    }

    /// The directory of the running executable (where mcli is installed beside it).
    static var binDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }
}
