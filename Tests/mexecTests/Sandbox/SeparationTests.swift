import Foundation
import MTestSupport
import Testing
import mdb

/// Without confinement, M still keeps its files from other local users and
/// its secrets out of what an agent can read of its executor.
@Suite struct SeparationTests {
    func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func theDatabaseWorkspacesAndRunsDirectoryArePrivate() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("echo made > file.txt; echo done")
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: h.tmp.dbPath + suffix) {
            let found = try mode(h.tmp.dbPath + suffix)
            #expect(found == 0o600, "m.db\(suffix) is \(String(found, radix: 8))")
        }
        let workspace = try #require(run.workspace)
        // Not beside the database: walking up from the workspace does not reach m.db.
        let dbFolder = (h.tmp.dbPath as NSString).deletingLastPathComponent
        #expect(workspace.hasPrefix(h.tmp.file("state") + "/m/workspaces/"), "\(workspace)")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/../../m.db"))
        #expect(!FileManager.default.fileExists(atPath: workspace + "/../m.db"))
        #expect((workspace as NSString).deletingLastPathComponent != dbFolder)
        #expect(try mode(workspace) == 0o700)
        #expect(try mode((workspace as NSString).deletingLastPathComponent) == 0o700, "the workspaces root")
        #expect(try mode(Defaults.runsDirectory(databasePath: h.tmp.dbPath)) == 0o700)
    }

    @Test func anAgentFindsNoSecretInItsOwnOrItsExecutorsEnvironment() throws {
        let secret = "s3cret-\(UUID().uuidString)"
        let h = try MexecHarness(env: ["ANTHROPIC_API_KEY": secret, "M_ADMIN_TOKEN": secret])
        try h.start()
        // Unconfined (`sandbox: "none"`), the agent can read its executor's /proc entry: it must hold nothing.
        let id = try h.db.createRun(NewRun(spec: RunSpec(command: """
            env; echo ---; tr '\\0' '\\n' < /proc/$PPID/environ; echo ---; echo "parent=$(cat /proc/$PPID/comm)"
            """, sandbox: "none"))).id
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(out.contains("parent=mexec"), "the agent's parent is its executor: \(out)")
        #expect(out.contains("M_AGENT_SOCKET") || out.contains("M_RUN"), "\(out)")
        #expect(!out.contains(secret), "a secret of the daemon reached the agent or its executor: \(out)")
    }
}
