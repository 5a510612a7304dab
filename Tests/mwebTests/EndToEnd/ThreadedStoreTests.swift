import Foundation
import MAuth
import MTestSupport
import Testing
import mdb

extension StreamLoad {
    /// mweb's SQLite calls run on threads of their own (`ThreadedStore`), not on
    /// Swift's cooperative pool: writes stuck behind another process's write
    /// lock must not stop mweb from serving reads.
    @Suite struct ThreadedStoreTests {
        @Test func readsAreServedWhileWritesWaitForAnotherProcesssWriteLock() async throws {
            let tmp = TempDir("mweb-locked")
            let db = try MDatabase(path: tmp.dbPath, create: true)
            let secret = Secret.generate()
            _ = try db.createToken(name: "t", scope: .steer, hash: Secret.hash(secret))
            let mweb = try MWebProcess(db: tmp.dbPath)
            defer { mweb.process.terminate(); mweb.process.waitUntilExit() }
            // A first request records the token's use, so later reads write nothing.
            #expect(try await http(mweb.port, .get, "/api/v1/runs", token: secret).status == 200)

            // Another process (the sqlite3 shell, as a person would) holds the write lock.
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            shell.arguments = [tmp.dbPath]
            let stdin = Pipe(), stdout = Pipe()
            shell.standardInput = stdin
            shell.standardOutput = stdout
            try shell.run()
            stdin.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\nSELECT 'locked';\n".utf8))
            var seen = ""
            while !seen.contains("locked") {
                let data = stdout.fileHandleForReading.availableData
                if data.isEmpty { break }
                seen += String(decoding: data, as: UTF8.self)
            }
            #expect(seen.contains("locked"))

            // More waiting writes than the cooperative pool has threads.
            let writes = 4 * ProcessInfo.processInfo.activeProcessorCount
            let finished = LockedBox(0)
            let posts = Task {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for i in 0..<writes {
                        group.addTask {
                            let r = try await http(mweb.port, .post, "/api/v1/runs", token: secret,
                                                   body: #"{"command": "echo \#(i)"}"#)
                            finished.mutate { $0 += 1 }
                            return r.status
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
            }
            // Give the POSTs time to reach the database and wait there: what is
            // tested is that reads still answer meanwhile, which no condition
            // observable from outside mweb would show sooner.
            try await Task.sleep(for: .milliseconds(500))
            let started = Date()
            let list = try await http(mweb.port, .get, "/api/v1/runs", token: secret)
            let health = try await http(mweb.port, .get, "/healthz")
            let elapsed = Date().timeIntervalSince(started)
            #expect(list.status == 200)
            #expect(health.status == 200)
            #expect(elapsed < 2, "reads answered in \(elapsed) s while writes waited")
            #expect(finished.get() == 0, "no write got through the held lock")

            stdin.fileHandleForWriting.write(Data("COMMIT;\n.quit\n".utf8))
            try stdin.fileHandleForWriting.close()
            shell.waitUntilExit()
            let statuses = try await posts.value
            #expect(statuses == Array(repeating: 201, count: writes), "every waiting write is stored once the lock is free")
            #expect(try db.runs(limit: 100, beforeId: nil, status: nil).count == writes)
        }
    }
}
