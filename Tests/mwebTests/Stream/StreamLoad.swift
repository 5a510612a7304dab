import Testing

/// The heavy stream tests (hundreds of sockets, fast writers, real processes)
/// run one after another: on a 2-core machine, running them at once would
/// measure each other's load rather than mweb.
@Suite(.serialized) enum StreamLoad {}
