import Foundation
import Testing
@testable import mdb

@Suite struct TimestampTests {
    @Test func formatAndParseRoundTrip() {
        let text = Timestamp.format(seconds: 1_795_000_000, milliseconds: 7)
        #expect(text == "2026-11-18T11:06:40.007Z")
        #expect(Timestamp.parse(text) == 1_795_000_000.007)
    }

    @Test func nowHasTheDatabaseFormat() {
        let now = Timestamp.now()
        #expect(now.utf8.count == 24)
        let parsed = Timestamp.parse(now) ?? 0
        #expect(abs(parsed - Date().timeIntervalSince1970) < 5)
    }

    @Test func garbageIsNotATimestamp() {
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.parse("2026-11-19T07:06:40.0x7Z") == nil)
    }
}
