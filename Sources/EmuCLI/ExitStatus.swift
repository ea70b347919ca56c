import EmuCore
import EmuRecords
import EmuRemote

/// The exit statuses of every emu command: the one table, repeated in each
/// command's help and in the man pages.
public enum ExitStatus: Int32, Error, Sendable, CaseIterable {
    case success = 0
    case failure = 1
    case usage = 2
    case partial = 3
    case damaged = 4
    case locked = 5

    init(_ kind: EmuError.Kind) {
        switch kind {
        case .failed: self = .failure
        case .usage: self = .usage
        case .damaged: self = .damaged
        case .locked: self = .locked
        }
    }

    /// What the status means, as every command's help says it.
    var meaning: String {
        switch self {
        case .success: "success"
        case .failure: "the operation failed (nothing was changed, or the change was rolled back)"
        case .usage: "bad usage (unknown command, option, sink or snapshot, malformed reference)"
        case .partial: "done, but some files were skipped"
        case .damaged: "verify found damage"
        case .locked: "the sink or source is locked by another running emu"
        }
    }

    /// The table every command's help ends with, made from the cases.
    static let help = "EXIT STATUS:\n" + allCases.map { "  \($0.rawValue)  \($0.meaning)" }.joined(separator: "\n")
}
