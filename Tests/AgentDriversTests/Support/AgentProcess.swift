import AgentDrivers
import Foundation
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// A real agent program started the way the executor will start it: its own process group, stdin
/// and stdout to the driver, stderr kept, waited for on a thread of its own.
final class AgentProcess: @unchecked Sendable {
    let pid: pid_t
    let stdio: AgentStdio
    private let lock = NSLock()
    private var stderrBytes = Data()
    private var status: Int32?

    init(_ argv: [String], environment: [String: String], directory: String) throws {
        let input = try Spawn.pipe(), output = try Spawn.pipe(), errors = try Spawn.pipe()
        pid = try Spawn.start(argv, environment: environment, directory: directory,
                              stdio: .descriptors(input.read, output.write, errors.write), group: .newGroup)
        close(input.read)
        close(output.write)
        close(errors.write)
        stdio = AgentStdio(stdin: input.write, stdout: output.read)
        let errorFD = errors.read, pid = self.pid
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(errorFD, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                lock.lock(); stderrBytes.append(contentsOf: buffer[0..<n]); lock.unlock()
            }
            close(errorFD)
            let status = Spawn.wait(pid)
            lock.lock(); self.status = status ?? -1; lock.unlock()
        }
    }

    /// What the agent wrote on stderr so far.
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: stderrBytes, as: UTF8.self) }

    /// The wait status once the agent ended.
    var exitStatus: Int32? { lock.lock(); defer { lock.unlock() }; return status }

    /// Ends the agent's whole process group.
    func kill() { Glibc.kill(-pid, SIGKILL) }

    deinit { if exitStatus == nil { Glibc.kill(-pid, SIGKILL) } }
}

/// Paths the tests use: fixtures in the source tree and the agent programs' cache.
enum Paths {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let agentsCache = ProcessInfo.processInfo.environment["M_AGENTS_CACHE"]
        ?? (NSHomeDirectory() + "/.cache/m-agents")

    static func fixture(_ name: String) -> String { fixtures + "/" + name }

    /// The environment a test agent gets: this process's PATH and HOME, plus `extra`.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        let env = ProcessInfo.processInfo.environment
        var result = ["PATH": env["PATH"] ?? "/usr/bin:/bin", "HOME": env["HOME"] ?? "/tmp", "LANG": "C.UTF-8"]
        for (key, value) in extra { result[key] = value }
        return result
    }
}

/// The real agent programs scripts/agent-clis unpacks into the cache (tests skip when one is missing).
enum AgentPrograms {
    /// The official ACP Python SDK (a folder for PYTHONPATH).
    static let acpSDK = Paths.agentsCache + "/acp-sdk"
    /// Claude Code's CLI from the claude-agent-sdk wheel.
    static let claude = Paths.agentsCache + "/claude/claude_agent_sdk/_bundled/claude"
    /// Codex's CLI from the openai-codex-cli-bin wheel.
    static let codex = Paths.agentsCache + "/codex/codex_cli_bin/bin/codex"

    static var hasACPSDK: Bool { FileManager.default.fileExists(atPath: acpSDK + "/acp/__init__.py") }
    static var hasClaude: Bool { FileManager.default.isExecutableFile(atPath: claude) }
    static var hasCodex: Bool { FileManager.default.isExecutableFile(atPath: codex) }
    static let missing = "is not in ~/.cache/m-agents (or $M_AGENTS_CACHE): run scripts/setup --test, which fetches it once"
}
