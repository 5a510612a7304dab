/// Which repository addresses a run may clone: https, ssh (`ssh://` or
/// `user@host:path`) and local paths. Never git's `transport::address` forms
/// (`ext::` runs a command, `fd::` talks over a descriptor), plain `http://`
/// or `git://` (unauthenticated), or anything starting with `-`.
public enum RepoURL {
    /// The same rule for git itself, as `GIT_ALLOW_PROTOCOL` (redirects included).
    public static let allowedProtocols = "file:https:ssh"

    /// Why `url` is refused, or nil when it may be cloned.
    public static func refusal(_ url: String) -> String? {
        let allowedSchemes: Set<String> = ["https", "ssh", "git+ssh", "ssh+git", "file"]
        if url.isEmpty { return "repo.url must not be empty" }
        if url.hasPrefix("-") { return "repo.url must not start with '-'" }
        if url.contains("::") {
            return "repo.url \(url) uses a git transport helper (`…::`); give an https://, ssh:// or user@host:path URL, or a local path"
        }
        if let range = url.range(of: "://") {
            let scheme = url[..<range.lowerBound].lowercased()
            if !allowedSchemes.contains(scheme) {
                return "repo.url scheme \(scheme):// is not allowed; use https://, ssh:// or a local path"
            }
        }
        if url.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return "repo.url must not contain control characters"
        }
        return nil
    }
}
