import AgentDrivers
import Foundation
import MTestSupport
import mdb

/// A driver holding a conversation with a real agent process, as a test sees it.
struct DriverRun: Sendable {
    let host: RecordingHost
    let agent: AgentProcess
    let workspace: TempDir
    let end: Task<DriverEnd, Never>

    /// Starts `argv` (through the driver's `arguments(for:)`) in a fresh workspace and drives it.
    static func start(_ driver: some AgentDriver, _ argv: [String], prompt: String?, environment: [String: String] = [:],
                      workspace: TempDir = TempDir("m-driver"),
                      decide: (@Sendable (ApprovalRequest) -> ApprovalDecision?)? = nil) throws -> DriverRun {
        let host = RecordingHost(workspace: workspace.path, decide: decide)
        let agent = try AgentProcess(driver.arguments(for: argv), environment: Paths.environment(environment), directory: workspace.path)
        let end = Task { await driver.run(host: host, agent: agent.stdio, prompt: prompt) }
        return DriverRun(host: host, agent: agent, workspace: workspace, end: end)
    }

    /// The conversation's end, within a deadline (the agent is killed if it does not come).
    func finish(timeout: Double = 60) async throws -> DriverEnd {
        let deadline = Date().addingTimeInterval(timeout)
        while agent.exitStatus == nil, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        if agent.exitStatus == nil { agent.kill() }
        return await end.value
    }
}
