import Foundation
import MTestSupport
import Testing
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// M's own git commands never run what the agent configured in its workspace,
/// and a clone uses only the transports meant and can be stopped.
@Suite struct GitHardeningTests {
    @Test func aFilterTheAgentConfiguresDoesNotRunDuringPropose() throws {
        let h = try MexecHarness()
        let repo = try h.fixtureRepo("repo", files: ["a.txt": "one\n"])
        let marker = h.tmp.file("filter-ran")
        try h.start()
        // The agent defines clean/smudge/process filters and a merge driver, names them for
        // every path, then proposes and (after the reject) has its workspace restored. Unconfined:
        // inside the sandbox the clone's config is read-only and the agent could not set them.
        let id = try h.create("""
            git config filter.evil.clean 'touch \(marker).clean; cat'
            git config filter.evil.smudge 'touch \(marker).smudge; cat'
            git config filter.evil.process 'touch \(marker).process'
            git config filter.evil.required true
            git config merge.evil.driver 'touch \(marker).merge'
            echo '* filter=evil merge=evil' > .gitattributes
            echo "two" >> a.txt
            mcli propose --message "with a filter"; echo "propose=$?"
            """, repo: repo, sandbox: "none")
        let approval = try #require(try h.pendingApproval(id), "\(h.logs) \((try? h.text(id)) ?? "") \((try? h.text(id, stream: "stderr")) ?? "")")
        let diff = try h.db.diff(try #require(approval.diffId))
        #expect(try Set(h.files(of: diff).keys) == [".gitattributes", "a.txt"])
        #expect(try h.decide("reject", approval.id).status == 0)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(out.contains("propose=1"), "\(out)")
        let ran = try FileManager.default.contentsOfDirectory(atPath: h.tmp.path).filter { $0.hasPrefix("filter-ran") }
        #expect(ran.isEmpty, "M's git ran the agent's drivers: \(ran)")
    }

    @Test(.enabled(if: ConfinementTests.bwrapWorks)) func aConfinedAgentCannotChangeItsClonesConfig() throws {
        let h = try MexecHarness()
        let repo = try h.fixtureRepo("repo", files: ["a.txt": "one\n"])
        try h.start()
        let id = try h.create("""
            git config filter.evil.clean 'touch /tmp/x; cat'; echo "config=$?"
            git config --global user.name agent; echo "global=$?"
            echo two >> a.txt; git -c user.email=a@b -c user.name=a commit -qam two; echo "commit=$?"
            """, repo: repo)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(out.contains("config=") && !out.contains("config=0"), "\(out)")
        #expect(out.contains("global=0") && out.contains("commit=0"), "\(out)")
        let workspace = try #require(run.workspace)
        #expect(try !String(contentsOfFile: workspace + "/.git/config", encoding: .utf8).contains("evil"))
    }

    @Test func transportHelpersAndPlainHttpAreRefusedAtCreation() throws {
        let h = try MexecHarness()
        for url in ["fd::17", "ext::sh -c touch% /tmp/pwned", "http://example.org/r.git", "git://example.org/r.git",
                    "foo::bar", "-upload-pack=x"] {
            #expect(throws: MDBError.self, "\(url) was accepted") {
                _ = try h.db.createRun(NewRun(spec: RunSpec(command: "true"), repoUrl: url))
            }
        }
        for url in ["https://example.org/r.git", "ssh://git@example.org/r.git", "git@example.org:r.git", "/srv/repo",
                    "file:///srv/repo"] {
            #expect(RepoURL.refusal(url) == nil, "\(url) was refused")
        }
    }

    @Test func aTransportHelperInTheDatabaseIsRefusedByGitToo() throws {
        let h = try MexecHarness()
        // A row written around mdb's check (sqlite3 by hand) still never reaches `fd::`.
        let id = try h.create("true")
        let update = try Exec.run("/usr/bin/sqlite3", [h.tmp.dbPath, "UPDATE runs SET repo_url = 'fd::17' WHERE id = \(id)"])
        #expect(update.status == 0, "\(update.stderr)")
        try h.start()
        let run = try h.finished(id, timeout: 30)
        #expect(run.status == .failed)
        let notice = try h.events(id).first { $0.type == EventType.notice }?.dataValue["text"]?.stringValue ?? ""
        #expect(notice.contains("transport"), "\(notice)")
    }

    @Test func aHungCloneIsCanceledWithinTheCancelDeadline() throws {
        // An https server that accepts and never answers: the clone hangs in its TLS handshake.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 16)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))

        let h = try MexecHarness()
        try h.start()
        let id = try h.create("echo never", repo: "https://127.0.0.1:\(port)/hang.git")
        // Wait until git is connected (the server sees the connection), then cancel.
        var pending = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pending, 1, 30_000) == 1, "git never connected: \(h.logs)")
        try h.db.requestCancel(runId: id)
        let started = Date()
        let run = try h.finished(id, timeout: 15)
        #expect(run.status == .canceled, "\(run.status) \(h.logs)")
        #expect(Date().timeIntervalSince(started) < Double(Defaults.cancelInterruptGraceMilliseconds + Defaults.cancelTerminateGraceMilliseconds) / 1000 + 4)
        let notice = try h.events(id).first { $0.type == EventType.notice }?.dataValue["text"]?.stringValue ?? ""
        #expect(notice.contains("canceled"), "\(notice)")
    }
}
