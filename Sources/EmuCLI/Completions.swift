import ArgumentParser
import EmuCore
import EmuRecords
import EmuRemote

/// Shell completion of the names only the source knows: its sinks, and
/// references to their snapshots. The shell runs emu in the working
/// directory to ask; a source that cannot be found offers nothing.
enum Completions {
    static let sinks = CompletionKind.custom { _, _, prefix in
        sinkNames().filter { $0.hasPrefix(prefix) }
    }

    static let references = CompletionKind.custom { _, _, prefix in
        referenceWords().filter { $0.hasPrefix(prefix) }
    }

    /// References and sink names, for commands that take either.
    static let referencesAndSinks = CompletionKind.custom { _, _, prefix in
        (sinkNames() + referenceWords()).filter { $0.hasPrefix(prefix) }
    }

    static func sinkNames() -> [String] {
        (try? Source.locate(explicit: nil).sinks().map(\.name)) ?? []
    }

    /// HEAD, HEAD~N and TAIL of the default sink, and SINK:HEAD, SINK:TAIL
    /// and SINK:ID (short) for every online sink's snapshots, newest first.
    static func referenceWords() -> [String] {
        guard let source = try? Source.locate(explicit: nil), let registrations = try? source.sinks() else { return [] }
        var words = ["HEAD", "TAIL"]
        let defaultName = (try? source.defaultSink())?.name
        for registration in registrations {
            guard let sink: any SinkStore = try? Sink.open(registration), let snapshots = try? sink.snapshots() else { continue }
            if registration.name == defaultName {
                words += (1..<max(1, min(snapshots.count, 10))).map { "HEAD~\($0)" }
                words += snapshots.reversed().map(\.shortID)
            }
            words += ["\(registration.name):HEAD", "\(registration.name):TAIL"]
            words += snapshots.reversed().map { "\(registration.name):\($0.shortID)" }
        }
        return words
    }
}
