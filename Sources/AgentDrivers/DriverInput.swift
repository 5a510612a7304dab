/// One request of the run, for the driver.
public enum DriverInput: Sendable, Equatable {
    /// Text a person typed: the next prompt (queued while a turn runs).
    case text(String)
    /// End of the conversation: no more prompts; the agent is told to finish and exit.
    case eof
    /// The run is being canceled: stop the current turn now.
    case cancel
}
