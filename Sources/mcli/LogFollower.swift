import Foundation
import mdb

/// Prints a run's events, and with `follow` waits for new ones (polling the
/// cheap `data_version` check) until `run.finished`.
struct LogFollower {
    let db: MDatabase
    let runId: Int64
    let json: Bool

    /// Prints every event after `afterSeq` that exists now; returns the last seq printed.
    func printAvailable(afterSeq: Int64) throws -> (lastSeq: Int64, finished: Bool) {
        var last = afterSeq
        var finished = false
        while true {
            let page = try db.events(runId: runId, afterSeq: last)
            for event in page {
                render(event)
                last = event.seq
                if event.type == EventType.runFinished { finished = true }
            }
            if page.count < Defaults.maxEventPageSize { return (last, finished) }
        }
    }

    /// Prints events as they come until the run finishes; returns the final run.
    func follow(afterSeq: Int64) async throws -> mdb.Run {
        let watch = try ChangeWatch(path: db.path)
        _ = try watch.changed()
        var last = afterSeq
        while true {
            let (seq, finished) = try printAvailable(afterSeq: last)
            last = seq
            if finished { return try db.run(runId) }
            _ = try await watch.nextChange(timeout: 1)
        }
    }

    private func render(_ event: Event) {
        if json { Output.line(event.wireJSON); return }
        let data = event.dataValue
        switch event.type {
        case EventType.output:
            let bytes: Data
            if let b64 = data["b64"]?.stringValue, let decoded = Data(base64Encoded: b64) {
                bytes = decoded
            } else {
                bytes = Data((data["text"]?.stringValue ?? "").utf8)
            }
            if data["stream"]?.stringValue == "stderr" {
                FileHandle.standardError.write(bytes)
            } else {
                FileHandle.standardOutput.write(bytes)
            }
        default:
            Output.line("» \(event.type) \(event.data)")
        }
    }
}
