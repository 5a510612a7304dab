import Foundation

/// A private temporary folder for a temporary index or patch, outside every workspace and target.
struct ScratchDirectory {
    /// The folder's absolute path.
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("m-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        path = url.path
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
