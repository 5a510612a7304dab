import AgentDrivers
import Foundation
import magent
#if canImport(Glibc)
import Glibc
#endif

/// The executor's side of a run's agent socket, as far as `mcli hook claude` needs it: each `ask`
/// becomes an approval of the recording host, and its decision the answer. A thread of its own accepts.
final class AgentSocketStub: @unchecked Sendable {
    let path: String
    private let directory: String
    private let listener: Int32

    init(host: RecordingHost) throws {
        directory = "/tmp/m-sock-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/agent.sock"
        listener = try UnixSocket.listen(path: path)
        let listener = self.listener
        Thread.detachNewThread {
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 { if errno == EINTR { continue } else { return } }
                Thread.detachNewThread { AgentSocketStub.serve(fd, host: host) }
            }
        }
    }

    private static func serve(_ fd: Int32, host: RecordingHost) {
        defer { close(fd) }
        guard let line = AgentLine.read(fd: fd), let request = try? JSONDecoder().decode(AgentRequest.self, from: line) else { return }
        let asked = ApprovalRequest(kind: request.kind ?? "ask", title: request.text ?? "", body: request.body ?? "")
        let box = DecisionBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await host.requestApproval(asked)
            done.signal()
        }
        done.wait()
        let decision = box.value ?? ApprovalDecision(status: .canceled)
        let response = AgentResponse(ok: true, decision: decision.status.rawValue, note: decision.note, by: "tester")
        _ = AgentLine.write(fd: fd, AgentLine.encode(response))
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

private final class DecisionBox: @unchecked Sendable {
    var value: ApprovalDecision?
}
