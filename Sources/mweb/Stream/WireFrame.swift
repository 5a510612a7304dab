import mdb

/// One event ready to send: encoded once (`Event.wireJSON`) and shared by
/// every subscriber, with the keys a subscriber needs to order and dedupe it.
struct WireFrame: Sendable {
    let id: Int64
    let runId: Int64
    let seq: Int64
    let text: String

    init(_ event: Event) {
        id = event.id
        runId = event.runId
        seq = event.seq
        text = event.wireJSON
    }
}
