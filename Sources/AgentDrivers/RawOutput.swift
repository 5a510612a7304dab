import mdb

/// Keeps what an agent printed on stdout that is not its protocol: each such line becomes an
/// `output {stream: stdout}` event (nothing is lost), and the first one also a `notice` saying why,
/// so a chatty agent does not flood the run with notices.
final class RawOutput: Sendable {
    private let host: any DriverHost
    private let protocolName: String
    private let noticed = Locked(false)

    init(host: any DriverHost, protocolName: String) {
        self.host = host
        self.protocolName = protocolName
    }

    /// Stores `line` as raw output; `why` goes into the notice the first time.
    func keep(_ line: [UInt8], why: String) async {
        let first = noticed.withLock { was -> Bool in defer { was = true }; return !was }
        if first {
            await host.emit("notice", ["level": "warning",
                                       "text": .string("the agent printed a line that is not \(protocolName) (\(why)); it is kept as raw output")])
        }
        let text = String(decoding: line, as: UTF8.self)
        await host.emit("output", ["stream": "stdout", "text": .string(text + "\n")])
    }
}
