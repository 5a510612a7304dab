import Foundation

/// The rules a path in a patch must follow to be written inside a checkout and nowhere else.
public enum SafePath {
    /// Throws `unsafePath` unless `path` is relative, has no empty, `.` or `..` component, does not
    /// reach into `.git`, and holds no NUL or backslash.
    public static func check(_ path: String) throws {
        func refuse(_ reason: String) -> GitError { .unsafePath(path: path, reason: reason) }
        if path.isEmpty { throw refuse("it is empty") }
        if path.hasPrefix("/") { throw refuse("it is absolute; paths must stay inside the checkout") }
        if path.contains("\0") || path.contains("\\") { throw refuse("it contains a NUL or a backslash") }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." { throw refuse("it has an empty or `.` component") }
            if component == ".." { throw refuse("it climbs out with `..`") }
            if component.lowercased() == ".git" { throw refuse("it reaches into .git") }
        }
    }

    /// Throws `unsafePath` when a folder on the way to `path` inside `root` is a symbolic link, so a
    /// write there would land wherever the link points.
    public static func checkNoSymlinkOnTheWay(_ path: String, in root: String) throws {
        var prefix = root
        let components = path.split(separator: "/")
        for component in components.dropLast() {
            prefix += "/" + component
            var info = stat()
            guard lstat(prefix, &info) == 0 else { return }
            if (info.st_mode & S_IFMT) == S_IFLNK {
                throw GitError.unsafePath(path: path, reason: "\(prefix) is a symbolic link; a write there would land outside the checkout")
            }
        }
    }
}
