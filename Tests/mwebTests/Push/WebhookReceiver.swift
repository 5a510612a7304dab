import Foundation
import MTestSupport
import mdb

/// `Tests/Fixtures/webhook_receiver.py` running as a real HTTP server on a free loopback port.
final class WebhookReceiver: @unchecked Sendable {
    let process: Process
    let port: Int
    let logPath: String

    /// One request as the receiver logged it.
    struct Request {
        var headers: [String: String]
        var body: String
        var signatureOK: Bool
        /// 200, 503, or nil for a request it never answered (`--hold-first`).
        var status: Int?
        var delivery: String { headers["X-M-Delivery"] ?? "" }
        var json: JSONValue? { try? JSONValue.parse(body) }
    }

    init(_ tmp: TempDir, secret: String? = nil, failFirst: Int = 0, holdFirst: Bool = false) throws {
        logPath = tmp.file("received-\(UInt32.random(in: 0...UInt32.max)).jsonl")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/webhook_receiver.py").path
        var args = [script, "--log", logPath, "--fail-first", String(failFirst)]
        if let secret { args += ["--secret", secret] }
        if holdFirst { args.append("--hold-first") }
        let out = Pipe()
        process = try Exec.start("/usr/bin/env", ["python3"] + args, stdout: out.fileHandleForWriting)
        var seen = ""
        while !seen.contains("\n") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        guard let line = seen.split(separator: "\n").first, line.hasPrefix("listening "),
              let port = Int(line.dropFirst("listening ".count)) else {
            process.terminate()
            throw TestFailure("the webhook receiver did not start: \(seen)")
        }
        self.port = port
    }

    /// Ends the receiver. SIGKILL: a child of the test process may inherit SIGTERM ignored.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    /// Every request received so far, in order.
    func requests() -> [Request] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let record = try? JSONValue.parse(String(line)), case .object(let pairs)? = record["headers"] else { return nil }
            var headers: [String: String] = [:]
            for (k, v) in pairs { headers[k] = v.stringValue }
            return Request(headers: headers, body: record["body"]?.stringValue ?? "",
                           signatureOK: record["signature_ok"]?.boolValue ?? false,
                           status: record["status"]?.intValue.map(Int.init))
        }
    }

    /// The deliveries answered 200, each key once per 200.
    func accepted() -> [Request] { requests().filter { $0.status == 200 } }
}
