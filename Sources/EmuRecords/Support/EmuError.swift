import EmuPOSIX

/// A failure a command reports to its user: what went wrong, how to fix it,
/// and the kind of failure, which the CLI maps to an exit status.
public struct EmuError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// The operation failed; nothing was changed or it was rolled back.
        case failed
        /// Bad usage: unknown sink or snapshot, malformed reference or option.
        case usage
        /// `verify` found damage.
        case damaged
        /// Another emu holds the sink or source lock.
        case locked
    }

    public let kind: Kind
    public let message: String
    public let fix: String?
    /// The system call that failed, when one did: its operation, path and
    /// errno, for whoever needs more than the message.
    public let cause: FileSystemError?
    /// The channel to the other side broke (a cut, a frame no emu sends):
    /// nothing more can be said on it, so a server ends the session rather
    /// than answer (an error about what was said is answered instead).
    public var brokeTheChannel = false
    /// A push was cut off after it began (its connection, a signal): what
    /// it copied waits for the next push to resume from.
    public var interruptedPush = false

    public init(_ kind: Kind, _ message: String, fix: String? = nil, cause: FileSystemError? = nil) {
        self.kind = kind
        self.message = message
        self.fix = fix
        self.cause = cause
    }

    /// A failure of the channel itself (see `brokeTheChannel`).
    package static func channel(_ message: String, fix: String) -> EmuError {
        var error = EmuError.failed(message, fix: fix)
        error.brokeTheChannel = true
        return error
    }

    public static func failed(_ message: String, fix: String? = nil) -> EmuError { EmuError(.failed, message, fix: fix) }
    public static func usage(_ message: String, fix: String? = nil) -> EmuError { EmuError(.usage, message, fix: fix) }

    public var description: String {
        guard let fix else { return message }
        return "\(message)\n  fix: \(fix)"
    }
}

extension EmuError {
    /// Wraps a filesystem failure, keeping it as the cause, with `fix` or,
    /// for the errors users can act on, emu's own advice.
    public init(_ error: FileSystemError, doing what: String? = nil, fix: String? = nil) {
        let advice: String? = switch error.errno {
        case .noSpace: "free space on that filesystem, or prune old snapshots (emu prune)"
        case .permissionDenied, .notPermitted: "run emu as a user who may do this, or fix the permissions"
        case .readOnlyFileSystem: "remount the filesystem read-write"
        default: nil
        }
        self.init(.failed, (what.map { "\($0): " } ?? "") + error.description, fix: advice ?? fix, cause: error)
    }
}

extension Origin {
    /// The tree being backed up: an error there costs one entry, which is skipped and reported.
    package static let source = Origin(code: 1)
    /// A sink: an error there stops the command.
    package static let sink = Origin(code: 2)
}

/// Whether an error was raised by the source tree (skip the entry and go
/// on) rather than by the sink or anything else (stop): decided by where it
/// was raised, which the handle that raised it knows.
package func isSourceError(_ error: Error) -> Bool {
    (error as? FileSystemError)?.origin == .source
}
