import ArgumentParser
import EmuCore
import EmuPOSIX
import Glibc
import EmuRecords
import EmuRemote

extension Emu {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a snapshot's record, a directory's listing, or a file's bytes.",
            discussion: """
                REF alone prints the snapshot's record. REF:PATH prints the listing of a \
                directory, the target of a symlink, or the bytes of a file on stdout.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var report: ReportOptions

        @Argument(help: "[SINK:]SNAPSHOT[:PATH]", completion: Completions.references)
        var reference: String

        func run() throws {
            let terminal = global.terminal
            let source = try global.source(orSinkIn: [reference])
            try source.checkSinkPart(of: reference)
            let (parsed, path) = try splitReferenceAndPath(reference, sinkNames: try source.sinks().map(\.name))
            let resolved = try source.resolve(parsed.text)
            let snapshot = resolved.snapshot
            guard let path else {
                if report.json {
                    let head = try resolved.store.headID() == snapshot.id
                    try terminal.json(SnapshotJSON(snapshot, sink: resolved.registration.name,
                                                   uniqueBytes: try? resolved.store.uniqueBytes(of: snapshot), head: head))
                } else {
                    print(snapshot.node.text, terminal: terminal)
                }
                return
            }
            try resolved.store.lock(.shared, wait: 0)
            defer { resolved.store.unlock() }
            let (found, children) = try Self.record(at: path, in: try resolved.store.openRecords(snapshot))
            guard let found else {
                throw EmuError.notInSnapshot(path, snapshot: snapshot, sink: resolved.registration.name)
            }
            if report.json {
                return try terminal.json(ShowEntryJSON(
                    snapshot: SnapshotJSON(snapshot, sink: resolved.registration.name), entry: EntryJSON(found, type: found.kind.typeName),
                    entries: found.kind == .directory ? children.map { EntryJSON($0, type: $0.kind.typeName) } : nil))
            }
            switch found.kind {
            case .directory:
                do {
                    for child in children {
                        var line = "\(child.kind.typeName.prefix(1)) \(String(child.permissions, radix: 8).leftPadded(4)) \(String(child.owner).leftPadded(5)) \(String(child.group).leftPadded(5)) \(String(child.size).leftPadded(12)) \(Timestamp(seconds: child.modified.seconds).displayText) \(child.path.lastName!)"
                        if let target = child.symlinkTarget { line += " -> \(Printable.path(target))" }
                        terminal.output(line)
                    }
                }
            case .symlink:
                terminal.output(Printable.path(found.symlinkTarget ?? []))
            case .regular:
                fflush(nil)
                try resolved.store.copyFile(path, of: snapshot, to: .standardOutput)
            default:
                terminal.output("\(found.kind.typeName) \(found.device.map { "\($0.major),\($0.minor)" } ?? "")")
            }
        }

        /// The record at `path` and, for a directory, its children's, read as
        /// a stream that stops past them.
        static func record(at path: RelativePath, in reader: RecordReader) throws -> (ManifestRecord?, [ManifestRecord]) {
            var found: ManifestRecord? = nil
            var children: [ManifestRecord] = []
            while let record = try reader.next() {
                if record.path == path { found = record; continue }
                if found != nil {
                    guard record.path.isWithin(path) else { break }
                    if record.path.parent == path { children.append(record) }
                } else if path < record.path && !record.path.isWithin(path) {
                    break
                }
            }
            return (found, children)
        }

        func print(_ text: String, terminal: Terminal) {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() { terminal.output(String(line)) }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
