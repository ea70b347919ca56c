import Foundation
import Glibc
import Testing

/// How a test that cannot set itself up here ends: as a skip that the run
/// reports (Swift Testing's cancellation), never as a pass. Where every test
/// must run (`EMU_NO_SKIPS=1`: CI, which installed every tool and is root) it
/// fails instead, so a part that was meant to run cannot vanish unseen.
enum Skips {
    static let forbidden = ProcessInfo.processInfo.environment["EMU_NO_SKIPS"] == "1"
    static let isRoot = geteuid() == 0

    /// The trait of a test that needs what `available` says: it is skipped
    /// without it, and run (to fail) where no skip is allowed.
    static func needs(_ available: Bool, _ why: String) -> ConditionTrait {
        .enabled(if: available || forbidden, Comment(rawValue: why))
    }

    static func needsRoot(_ why: String) -> ConditionTrait { needs(isRoot, why) }

    /// Ends the test as skipped because `reason` (e.g. "cannot mount tmpfs here").
    static func skip(_ reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Never {
        if forbidden { throw RequiredSetupFailed(reason: reason) }
        try Test.cancel(Comment(rawValue: reason), sourceLocation: sourceLocation)
    }

    /// The setup that could not be done where every test must run.
    struct RequiredSetupFailed: Error, CustomStringConvertible {
        var reason: String
        var description: String { "skipped (\(reason)), but EMU_NO_SKIPS=1 requires this test to run" }
    }
}

extension ScratchFilesystem {
    /// The filesystem, or the test ends as skipped (see `Skips`).
    static func required(_ kind: String, megabytes: Int, in workspace: Workspace, name: String = "fs", options: String = "",
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> ScratchFilesystem {
        guard let fs = ScratchFilesystem(kind, megabytes: megabytes, in: workspace, name: name, options: options) else {
            try Skips.skip("cannot mount a \(kind) filesystem here", sourceLocation: sourceLocation)
        }
        return fs
    }
}
