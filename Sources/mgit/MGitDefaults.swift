/// The tunables of diffing, with units in their names.
public enum MGitDefaults {
    /// Largest patch kept in a diff; beyond it the patch is cut with a marker (the file list stays complete).
    public static let maxPatchBytes = 1_000_000
}
