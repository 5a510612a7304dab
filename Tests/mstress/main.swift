// mstress: a tiny process that exercises one bus primitive, so that tests can
// run several real processes against the same database at once.
import Foundation
import mdb

let args = CommandLine.arguments
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mstress: \(message)\n".utf8))
    exit(2)
}
guard args.count >= 3 else { fail("usage: mstress claim|append|resolve|tail DB …") }
let db: MDatabase
do { db = try MDatabase(path: args[2]) } catch { fail("\(error)") }
var out = ""

switch args[1] {
case "claim":
    // claim DB WORKER [START_MS]: at wall-clock START_MS (so that all racers start
    // together), claim until the queue is empty, print each claimed id.
    let worker = args[3]
    if args.count > 4, let startMs = Double(args[4]) {
        let wait = startMs / 1000 - Date().timeIntervalSince1970
        if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
    }
    while let run = try db.claimNextRun(workerId: worker) { out += "\(run.id)\n" }
case "append":
    // append DB RUN COUNT BATCH TAG: append COUNT events in batches of BATCH.
    let runId = Int64(args[3])!, count = Int(args[4])!, batch = Int(args[5])!, tag = args[6]
    var i = 0
    while i < count {
        let n = min(batch, count - i)
        let events = (0..<n).map { k in NewEvent(EventType.output, ["stream": "stdout", "text": .string("\(tag) \(i + k)\n")]) }
        try db.append(runId: runId, events)
        i += n
    }
case "resolve":
    // resolve DB APPROVAL DECISION: print "won" or "conflict".
    do {
        _ = try db.resolveApproval(id: Int64(args[3])!, decision: Decision(rawValue: args[4])!, by: "mstress:\(getpid())")
        out += "won\n"
    } catch MDBError.approvalAlreadyResolved {
        out += "conflict\n"
    }
case "tail":
    // tail DB EXPECTED: follow events by global id until EXPECTED were seen; print their ids.
    let expected = Int(args[3])!
    let watch = try ChangeWatch(path: args[2])
    var last: Int64 = 0, seen = 0
    let deadline = Date().addingTimeInterval(120)
    while seen < expected && Date() < deadline {
        if try watch.changed() {
            while true {
                let page = try db.events(afterId: last)
                for e in page { out += "\(e.id)\n"; last = e.id; seen += 1 }
                if page.count < Defaults.maxEventPageSize { break }
            }
        } else {
            usleep(500)
        }
    }
default:
    fail("unknown command \(args[1])")
}
FileHandle.standardOutput.write(Data(out.utf8))
