import Foundation

/// A flag threads can set and read.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    /// Whether `set()` was called.
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    /// Raises the flag (for good).
    func set() { lock.lock(); value = true; lock.unlock() }
}

/// A value produced on one thread and read on another (nil until set).
final class LockedResult<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T?
    func set(_ newValue: T) { lock.lock(); value = newValue; lock.unlock() }
    func get() -> T? { lock.lock(); defer { lock.unlock() }; return value }
}

/// Carries a non-Sendable value into the one thread that uses it.
struct Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
