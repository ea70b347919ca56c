import EmuCore

/// The exit statuses of every emu command: the one table, repeated in each
/// command's help and in the man pages.
public enum ExitStatus: Int32, Error, Sendable {
    case success = 0
    /// The operation failed; nothing was changed, or the change was rolled back.
    case failure = 1
    /// Bad usage: unknown command, option, sink or snapshot, malformed reference.
    case usage = 2
    /// Done, but some files were skipped.
    case partial = 3
    /// `verify` found damage.
    case damaged = 4
    /// The sink or source is locked by another running emu.
    case locked = 5

    init(_ kind: EmuError.Kind) {
        switch kind {
        case .failed: self = .failure
        case .usage: self = .usage
        case .damaged: self = .damaged
        case .locked: self = .locked
        }
    }

    static let help = """
        EXIT STATUS:
          0  success
          1  the operation failed (nothing was changed, or the change was rolled back)
          2  bad usage (unknown command, option, sink or snapshot, malformed reference)
          3  done, but some files were skipped
          4  verify found damage
          5  the sink or source is locked by another running emu
        """
}
