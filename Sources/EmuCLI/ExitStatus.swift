import EmuCore
import EmuRecords
import EmuRemote

/// The exit statuses of every emu command: the one table, in `emu --help`
/// and the man pages; each command's help lists those it can end with.
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

    /// The table `emu --help` ends with, made from the cases.
    static let help = table(allCases)

    /// The table a command's help ends with: 0, 1 and 2, which every
    /// command can end with, and the statuses only some can (`also`).
    static func help(_ also: ExitStatus...) -> String { table([.success, .failure, .usage] + also) }

    private static func table(_ statuses: [ExitStatus]) -> String {
        "EXIT STATUS:\n" + statuses.map { "  \($0.rawValue)  \($0.meaning)" }.joined(separator: "\n")
    }
}
