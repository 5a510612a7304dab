import ArgumentParser

/// A duration as people type it for `mcli gc --older-than`: `90m`, `12h`, `30d`, `2w`.
struct Age: ExpressibleByArgument, Sendable {
    /// The duration in seconds.
    let seconds: Int

    init?(argument: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400]
        guard let unit = argument.last, let scale = units[unit], let count = Int(argument.dropLast()), count >= 0,
              count <= Int.max / scale else { return nil }
        seconds = count * scale
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
