import Foundation
import GRDB
import MTestSupport
import Testing
import mdb

/// Pairing tokens (`mcli up`, `mcli pair`): usable only if first used within their window.
@Suite struct PairingTokenTests {
    @Test func anUnusedPairingTokenPastItsDeadlineIsRefusedWhileAUsedOneKeepsWorking() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let fresh = try db.createToken(name: "fresh", scope: .steer, hash: "h-fresh", firstUseWithin: 900)
        #expect(fresh.useBy != nil && fresh.state() == .pairing)
        #expect(try db.activeToken(hash: "h-fresh")?.id == fresh.id, "within its window it signs in")

        _ = try db.createToken(name: "stale", scope: .steer, hash: "h-stale", firstUseWithin: 900)
        let used = try db.createToken(name: "used", scope: .steer, hash: "h-used", firstUseWithin: 900)
        try db.touchToken(id: used.id)
        try db.write { try $0.execute(sql: "UPDATE tokens SET use_by = '2000-01-01T00:00:00.000Z' WHERE name IN ('stale', 'used')") }
        #expect(try db.activeToken(hash: "h-stale") == nil, "never used in time: refused")
        #expect(try db.activeToken(hash: "h-used")?.id == used.id, "used in time: it stays")
        let states = Dictionary(uniqueKeysWithValues: try db.tokens().map { ($0.name, $0.state()) })
        #expect(states == ["fresh": .pairing, "stale": .expired, "used": .active])
    }

    @Test func expiredLinksAreDeletedWhenTheNextPairingTokenIsMadeAndOnlyThen() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        _ = try db.createToken(name: "admin", scope: .admin, hash: "h-admin")
        _ = try db.createToken(name: "stale", scope: .steer, hash: "h-stale", firstUseWithin: 900)
        let used = try db.createToken(name: "used", scope: .steer, hash: "h-used", firstUseWithin: 900)
        try db.touchToken(id: used.id)
        try db.write { try $0.execute(sql: "UPDATE tokens SET use_by = '2000-01-01T00:00:00.000Z' WHERE name IN ('stale', 'used')") }
        _ = try db.createToken(name: "plain", scope: .read, hash: "h-plain")
        #expect(try db.tokens().map(\.name) == ["admin", "stale", "used", "plain"], "a plain token deletes nothing")
        _ = try db.createToken(name: "next", scope: .steer, hash: "h-next", firstUseWithin: 900)
        #expect(try db.tokens().map(\.name) == ["admin", "used", "plain", "next"])
    }

    @Test func aRevokedTokenIsRevokedWhateverItsDeadline() throws {
        let tmp = TempDir()
        let db = try MDatabase(path: tmp.dbPath, create: true)
        _ = try db.createToken(name: "link", scope: .steer, hash: "h-link", firstUseWithin: 900)
        let revoked = try db.revokeToken("link")
        #expect(revoked.state() == .revoked)
        #expect(try db.activeToken(hash: "h-link") == nil)
    }
}
