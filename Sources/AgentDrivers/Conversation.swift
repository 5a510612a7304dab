/// The shape every driver's conversation shares: one task reads the agent's stdout, one serves the
/// agent's requests (when the protocol has them), one pumps the run's inputs into the `TurnInbox`,
/// while the driver's loop holds the turns. When the loop ends, the agent's stdin is closed and the
/// agent gets `exitGrace` to close its stdout; after that the driver returns anyway (the host then
/// ends the agent's process group, as after any run), with a notice saying so.
enum Conversation {
    /// How long an agent may take to exit once its stdin is closed.
    static let exitGrace: Duration = .seconds(10)

    private enum Role: Sendable { case reader, timer, other }

    static func run(host: any DriverHost, agent: AgentStdio, inbox: TurnInbox,
                    reader: @escaping @Sendable () async -> Void,
                    serve: (@Sendable () async -> Void)? = nil,
                    converse: () async -> DriverEnd) async -> DriverEnd {
        await withTaskGroup(of: Role.self) { group in
            group.addTask {
                await reader()
                inbox.agentExited()
                return .reader
            }
            if let serve {
                group.addTask {
                    await serve()
                    return .other
                }
            }
            group.addTask {
                await inbox.pump()
                return .other
            }
            let end = await converse()
            await agent.closeStdin()
            group.addTask {
                try? await Task.sleep(for: exitGrace)
                return .timer
            }
            while let role = await group.next() {
                if role == .reader { break }
                if role == .timer {
                    await host.emit("notice", ["level": "warning",
                                               "text": .string("the agent did not exit within \(exitGrace) of the end of its stdin; it is stopped")])
                    break
                }
            }
            group.cancelAll()
            return end
        }
    }
}
